"""The Trainer end to end on a small subset, and the shipped card reproduced by its command.

The full rebuild (``make model``, about half an hour on 2 cores) does not run here: a
small rebuild exercises every stage (fine-tune a few steps, fit, score, write, export),
and ``presslens evaluate`` on the shipped model must give the figures its card reports.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model.artifact import NotAModelError, check_replaceable, read_card
from model.predict import DEFAULT_MODEL_DIR, Presslens
from presslens.cli import app
from training import build_default
from training.annotations import ANNOTATIONS
from training.distill import TEACHER_LABELS
from training.finetune import FinetuneConfig
from training.proxies import available
from training.trainer import ENCODER_DIR, Trainer

needs_datasets = pytest.mark.skipif(
    not available(), reason="needs ../shared/datasets (PRESSLENS_DATASETS) for real-news text")


def _annotation_subset(path: Path, per_dataset: int = 30, source: Path = ANNOTATIONS) -> Path:
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    picked = [r for name in sorted({r["dataset"] for r in rows})
              for r in [r for r in rows if r["dataset"] == name][:per_dataset]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(picked)
    return path


@pytest.mark.rebuild
@needs_datasets
def test_a_small_rebuild_runs_every_stage(tmp_path: Path, small_csv: Path) -> None:
    config = build_default.config(
        tmp_path / "model", data=[small_csv], eval=[small_csv], proxies=False,
        annotations=_annotation_subset(tmp_path / "real.csv"),
        teacher=_annotation_subset(tmp_path / "teacher.csv", 10, TEACHER_LABELS),
        finetune=FinetuneConfig(max_steps=2, batch_size=8), cache_dir=tmp_path / "cache",
    )
    messages: list[str] = []
    Trainer(config, log=messages.append).run()
    out = config.out
    card = read_card(out)
    assert card.encoder.name == ENCODER_DIR and (out / ENCODER_DIR / "modules.json").is_file()
    assert card.training["finetune"]["max_steps"] == 2
    assert card.training["real_news"] is True
    assert any(f.path == "training/annotations/real.csv" for f in card.training_files)
    assert "real_news_test" in card.metrics and "heldout" in card.metrics
    assert any(m.startswith("fine-tuning default") for m in messages)
    assert "teacher: 30 soft-labelled framing sentences" in messages
    assert card.training["teacher"]["file"] == "teacher.csv"
    exported, reference = Presslens.load(out), Presslens.load(out, "torch")
    assert exported.encoder.backend != "torch"
    text = "The minister said the plan would work. Voters must reject it."
    got = [s.framing.scores for s in exported.classify(text)]
    want = [s.framing.scores for s in reference.classify(text)]
    for a, b in zip(got, want, strict=True):
        assert np.allclose(list(a.values()), list(b.values()), atol=0.01)


def test_without_the_datasets_real_news_is_skipped_saying_so(
    tmp_path: Path, small_csv: Path
) -> None:
    config = build_default.config(
        tmp_path / "model", data=[small_csv], eval=[], proxies=False, finetune=None,
        export=False, datasets_dir=tmp_path / "absent", cache_dir=tmp_path / "cache",
    )
    messages: list[str] = []
    Trainer(config, log=messages.append).run()
    assert any("absent; skipped" in m for m in messages)
    card = read_card(config.out)
    assert "real_news_test" not in card.metrics
    assert card.training["finetune"] is None


@pytest.mark.slow
def test_the_shipped_card_is_reproduced_by_presslens_evaluate() -> None:
    """The README's command: ``presslens evaluate --data training/data/test.csv --real-news``."""
    card = read_card(DEFAULT_MODEL_DIR)
    args = ["evaluate", "--data", str(build_default.DATA / "test.csv"), "--json"]
    if available():
        args.append("--real-news")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    measured = json.loads(result.stdout)
    for head in ("framing", "stance"):
        assert measured[head]["macro_f1"] == pytest.approx(
            card.metrics["heldout"][head]["macro_f1"], abs=0.005)
    if available():
        for name in ("all", "articles"):
            for head, figures in card.metrics["real_news_test"][name].items():
                assert measured["real_news_test"][name][head]["macro_f1"] == pytest.approx(
                    figures["macro_f1"], abs=0.005), (name, head)


@pytest.mark.parametrize("make_file", [False, True])
def test_out_that_is_not_a_model_is_refused_and_left_alone(
    tmp_path: Path, small_csv: Path, make_file: bool
) -> None:
    out = tmp_path / "notes"
    if make_file:
        out.write_text("my notes\n", encoding="utf-8")
    else:
        (out / "sub").mkdir(parents=True)
        (out / "notes.txt").write_text("my notes\n", encoding="utf-8")
    config = build_default.config(out, data=[small_csv], eval=[], proxies=False,
                                  finetune=None, export=False, real_news=False,
                                  cache_dir=tmp_path / "cache")
    with pytest.raises(NotAModelError, match=r"--out .*notes") as refused:
        Trainer(config, log=lambda _: None).run()
    if make_file:
        assert out.read_text(encoding="utf-8") == "my notes\n"
    else:
        assert "notes.txt, sub" in str(refused.value)
        assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "sub"]
        assert (out / "notes.txt").read_text(encoding="utf-8") == "my notes\n"


def test_an_empty_directory_or_an_existing_model_may_be_replaced(
    tmp_path: Path, small_model_dir: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    check_replaceable(empty)
    check_replaceable(small_model_dir)
    check_replaceable(tmp_path / "new")


def test_presslens_train_refuses_an_out_that_is_not_a_model(tmp_path: Path,
                                                           small_csv: Path) -> None:
    out = tmp_path / "work"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("hi\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "--data", str(small_csv), "--out", str(out),
                                      "--frozen", "--no-proxies", "--no-export"])
    assert result.exit_code == 2
    assert "is not a presslens model" in result.output and "notes.txt, sub" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "sub"]
