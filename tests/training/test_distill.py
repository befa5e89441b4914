"""Distillation: which unannotated sentences the teacher labels, and how its labels load."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from model.labels import FRAMING, LABELS
from training.annotation_keys import sentence_key
from training.annotations import split_of
from training.distill import teacher_examples, unlabelled_pool
from training.finetune import Example, _target
from training.trainer import Trainer, TrainingConfig


def _article_in(split: str) -> str:
    return next(f"a{i}" for i in range(1000) if split_of(f"a{i}") == split)


def _datasets(write_csv: Callable[..., Path], root: Path) -> Path:
    """Three made-up shared datasets in ``root`` (a folder under tmp_path)."""
    root.mkdir()
    name = root.name
    article = ("Headline of a made-up story\n\nThe council met on Monday night downtown. "
               "Its chair said the vote was fair to all.")
    write_csv([
        {"article": _article_in("train"), "publisher": "p", "title": "t", "text": article},
        {"article": _article_in("test"), "publisher": "p", "title": "t",
         "text": article.replace("Monday", "Tuesday")},
    ], f"{name}/polnear_train_articles.csv")
    write_csv([
        {"text": "Lawmakers  debated the bill for hours.", "target": "x", "polarity": "0"},
        {"text": "Too short.", "target": "x", "polarity": "0"}], f"{name}/newsmtsc_train.csv")
    write_csv([{"text": "A made-up opinion sentence here.", "label_bias": ""}],
              f"{name}/babe.csv")
    return root


def test_the_pool_takes_train_articles_only_and_skips_annotated_sentences(
    tmp_path: Path, write_csv: Callable[..., Path],
) -> None:
    datasets = _datasets(write_csv, tmp_path / "datasets")
    annotated = {sentence_key("Its chair said the vote was fair to all.")}
    pool = unlabelled_pool(datasets, annotated)
    texts = sorted(u.text for u in pool)
    # the test article's Tuesday sentence, the annotated sentence and the short one stay
    # out; a headline is a sentence like the others, as in the annotation pool
    assert texts == ["A made-up opinion sentence here.", "Headline of a made-up story",
                     "Lawmakers debated the bill for hours.",
                     "The council met on Monday night downtown."]
    assert all(u.key == sentence_key(u.text) for u in pool)


def test_teacher_labels_join_as_soft_examples_and_say_what_they_skip(
    tmp_path: Path, write_csv: Callable[..., Path],
) -> None:
    datasets = _datasets(write_csv, tmp_path / "datasets")
    labels = write_csv([
        {"dataset": "babe", "key": sentence_key("A made-up opinion sentence here."),
         "neutral_reporting": "0.1", "official_claim": "0.2", "advocacy": "0.7"},
        {"dataset": "babe", "key": "f" * 64, "neutral_reporting": "1", "official_claim": "0",
         "advocacy": "0"},
        {"dataset": "allsides", "key": "e" * 64, "neutral_reporting": "1",
         "official_claim": "0", "advocacy": "0"},
    ], "teacher.csv")
    messages: list[str] = []
    examples = teacher_examples(datasets, labels, messages.append)
    assert LABELS[FRAMING] == ("neutral_reporting", "official_claim", "advocacy")
    assert examples == [Example("A made-up opinion sentence here.", FRAMING, "advocacy",
                                soft=(0.1, 0.2, 0.7))]
    assert messages == [f"teacher labels: {datasets / 'allsides.csv'} absent; skipped 1 labelled "
                        "sentences",
                        "teacher labels: 1 keys of babe not found in its file; skipped"]
    assert teacher_examples(datasets, tmp_path / "none.csv", messages.append) == []
    assert messages[-1].endswith("none.csv not found; fine-tuning on human labels only")


def test_a_head_learns_a_teachers_distribution_or_a_one_hot_label() -> None:
    index = {label: i for i, label in enumerate(LABELS[FRAMING])}
    soft = Example("x", FRAMING, "advocacy", soft=(0.1, 0.2, 0.7))
    assert _target(soft, index) == [0.1, 0.2, 0.7]
    assert _target(Example("x", FRAMING, "official_claim"), index) == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("frozen", [False, True])
def test_the_teacher_adds_to_fine_tuning_only(tmp_path: Path, small_csv: Path,
                                              write_csv: Callable[..., Path],
                                              frozen: bool) -> None:
    datasets = _datasets(write_csv, tmp_path / "datasets")
    labels = write_csv([
        {"dataset": "babe", "key": sentence_key("A made-up opinion sentence here."),
         "neutral_reporting": "0.1", "official_claim": "0.2", "advocacy": "0.7"}],
        "teacher.csv")
    config = TrainingConfig(data=[small_csv], out=tmp_path / "m", teacher=labels,
                            datasets_dir=datasets, **({"finetune": None} if frozen else {}))
    trainer = Trainer(config, log=lambda _: None)
    dataset = trainer.dataset()
    examples = trainer.finetune_set(dataset)
    assert sum(e.soft is not None for e in examples) == (0 if frozen else 1)
    assert len(dataset.for_head(FRAMING)) == sum(
        e.head == FRAMING and e.soft is None for e in examples)
    assert config.recorded()["teacher"]["file"] == "teacher.csv"
