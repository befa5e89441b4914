"""A larger encoder teaches the small one that serves: soft framing labels on real news.

all-mpnet-base-v2 fine-tuned on 3,000 framing examples scores 0.822 dev framing where
MiniLM scores 0.722 (docs/model.md), but its ONNX export serves at a quarter of the speed
bar. So mpnet teaches instead of serving:

1. it is fine-tuned on every human-labelled framing row the default model trains on (the
   corpus and the real-news train split);
2. a logistic head on its features (fitted on a sample of those rows) is chosen and
   calibrated on the real-news *dev* split;
3. it labels, with probabilities, the real train-split sentences nobody annotated: the rest
   of the PolNeAR train articles, NewsMTSC train and BABE.

MiniLM then fine-tunes on the human labels plus these soft labels (``Example.soft``;
``python -m training.build_default --teacher FILE``), and its heads are fitted on human
labels only. Measured, not shipped: see docs/model.md, "Distilling mpnet into MiniLM". The
file written keeps dataset, key and the three probabilities, never the text;
``teacher_examples`` joins them with ``../shared/datasets`` and says what it skipped when
they are absent.

``python -m training.distill --teacher DIR [--tuned DIR] [--out FILE] [--limit N]``
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.labels import FRAMING, LABELS
from model.segment import split
from training.annotation_keys import sentence_key
from training.annotations import (
    ARTICLES,
    dataset_texts,
    join_keyed,
    of_split,
    read_keyed,
    split_of,
)
from training.finetune import Example, FinetuneConfig, finetune

TEACHER_LABELS = Path(__file__).resolve().parent / "annotations" / "teacher_framing.csv"
STANDALONE = ("newsmtsc_train", "babe")
MIN_WORDS = 4
HEAD_EXAMPLES = 4000  # the teacher's head: a seeded sample of its training rows is plenty
Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Unlabelled:
    dataset: str
    key: str
    text: str


def unlabelled_pool(datasets: Path, annotated: set[str]) -> list[Unlabelled]:
    """Real train-split content sentences with no human label, distinct by key.

    Article sentences come only from articles in the train split, so no sentence of a
    dev or test article reaches training, labelled or not.
    """
    pool: dict[str, Unlabelled] = {}
    with (datasets / f"{ARTICLES}.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if split_of(row["article"]) != "train":
                continue
            for segment in split(row["text"]):
                if segment.boilerplate or len(segment.text.split()) < MIN_WORDS:
                    continue
                key = sentence_key(segment.text)
                pool.setdefault(key, Unlabelled(ARTICLES, key, segment.text))
    for name in STANDALONE:
        for key, text in dataset_texts(datasets, name).items():
            if len(text.split()) >= MIN_WORDS:
                pool.setdefault(key, Unlabelled(name, key, text))
    return [u for key, u in sorted(pool.items()) if key not in annotated]


def teacher_examples(
    datasets: Path, labels: Path = TEACHER_LABELS, log: Log = _stderr
) -> list[Example]:
    """The teacher's soft framing labels joined with their text; skips what it cannot join."""
    what = "teacher labels"
    rows = read_keyed(labels, what, log, "fine-tuning on human labels only")
    examples: list[Example] = []
    for row, text in join_keyed(rows, datasets, what, log):
        soft = tuple(float(row[label]) for label in LABELS[FRAMING])
        label = LABELS[FRAMING][int(np.argmax(soft))]
        examples.append(Example(text, FRAMING, label, soft=soft))
    return examples


def teach(
    teacher: str, out: Path, tuned: Path | None, limit: int | None = None, log: Log = _stderr
) -> dict[str, object]:
    """Fine-tune the teacher (unless ``tuned`` is given), fit its head on dev, label the pool
    (a seeded sample of ``limit`` sentences of it, when given)."""
    from model.encoder import TorchEncoder
    from model.features import Unit, head_features
    from training import build_default
    from training.fit import HeadConfig, fit_on_dev
    from training.trainer import Trainer, finetune_examples

    trainer = Trainer(build_default.config(Path("unused")), log=log)
    dataset = trainer.dataset()
    framing = [e for e in finetune_examples(dataset) if e.head == FRAMING]
    if tuned is None or not (tuned / "modules.json").is_file():
        tuned = tuned or out.parent / "teacher-encoder"
        finetune(teacher, framing, tuned, FinetuneConfig(epochs=1.0), log)
    encoder = TorchEncoder(str(tuned))
    dev = [(s.text, s.framing) for s in of_split(trainer.real, "dev") if s.framing]
    sample = random.Random(0).sample(framing, min(len(framing), HEAD_EXAMPLES))
    log(f"teacher head: {len(sample)} train and {len(dev)} dev sentences")
    X = head_features(encoder, [Unit(e.text) for e in sample], FRAMING)
    X_dev = head_features(encoder, [Unit(t) for t, _ in dev], FRAMING)
    head, metrics = fit_on_dev(X, np.array([e.label for e in sample]), X_dev,
                               np.array([y for _, y in dev]),
                               HeadConfig(c_grid=(0.0003, 0.001, 0.003, 0.01, 0.03)))
    annotated = {s.key for s in trainer.real}
    pool = unlabelled_pool(trainer.config.datasets_dir, annotated)
    if limit is not None and limit < len(pool):
        pool = sorted(random.Random(0).sample(pool, limit), key=lambda u: u.key)
    log(f"teacher labelling {len(pool)} unannotated train-split sentences")
    proba = head.predict_proba(head_features(encoder, [Unit(u.text) for u in pool], FRAMING))
    order = [list(head.classes_).index(label) for label in LABELS[FRAMING]]
    _write(out, pool, proba[:, order])
    counts = np.bincount(proba[:, order].argmax(1), minlength=3)
    summary = {"teacher": Path(teacher).name, "train_sentences": len(framing),
               "head_sentences": len(sample), "dev_sentences": len(dev),
               "teacher_head": metrics, "labelled": len(pool),
               "argmax_counts": dict(zip(LABELS[FRAMING], counts.tolist(), strict=True))}
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _write(out: Path, pool: list[Unlabelled], proba: np.ndarray) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dataset", "key", *LABELS[FRAMING]])
        for unit, row in zip(pool, proba, strict=True):
            writer.writerow([unit.dataset, unit.key, *(f"{p:.4f}" for p in row)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", required=True, help="a sentence-transformers dir or hub id")
    parser.add_argument("--tuned", type=Path, default=None,
                        help="the fine-tuned teacher: reused if it exists, else written there")
    parser.add_argument("--out", type=Path, default=TEACHER_LABELS)
    parser.add_argument("--limit", type=int, default=None,
                        help="label a seeded sample of this many pool sentences")
    args = parser.parse_args(argv)
    print(json.dumps(teach(args.teacher, args.out, args.tuned, args.limit), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
