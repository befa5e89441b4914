"""Score a model on labelled CSVs: the same metrics the card reports, per head."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model.features import Unit
from model.labels import LABELS, STANCE
from model.predict import Presslens
from training.dataset import Row, load
from training.metrics import head_metrics

if TYPE_CHECKING:
    from training.annotations import RealSentence
    from training.trainer import TrainingConfig


def head_predictions(model: Presslens, rows: list[Row], head: str) -> np.ndarray:
    """Probabilities in LABELS order, one row per labelled row (each row is one unit)."""
    units = [Unit(r.text, r.target if head == STANCE else None) for r in rows]
    classes = LABELS[head]
    predictions = model.predict_units(units, heads=[head])
    return np.array([[p[head].scores[c] for c in classes] for p in predictions])


def evaluate_files(model: Presslens, paths: list[Path]) -> dict[str, Any]:
    """Per-head metrics on the given files, for every head both the data and model have."""
    dataset = load(paths, for_training=False)
    results: dict[str, Any] = {}
    for head in dataset.heads():
        if head not in model.heads:
            continue
        rows = dataset.for_head(head)
        proba = head_predictions(model, rows, head)
        results[head] = head_metrics([r.labels[head] for r in rows], proba, LABELS[head])
    return results


def real_news_metrics(model: Presslens, sentences: list[RealSentence]) -> dict[str, Any]:
    """Framing and (target-less) stance on held-out real sentences: all of them, the
    articles only, and each publisher's articles."""
    rows = [Row(s.dataset, i, s.text, None, {"framing": s.framing, "stance": s.stance})
            for i, s in enumerate(sentences) if s.framing]
    sets: dict[str, list[int]] = defaultdict(list)
    for i, sentence in enumerate(s for s in sentences if s.framing):
        sets["all"].append(i)
        if sentence.publisher:
            sets["articles"].append(i)
            sets[f"publisher:{sentence.publisher}"].append(i)
        else:
            sets[f"dataset:{sentence.dataset}"].append(i)
    results: dict[str, Any] = {}
    probabilities = {head: head_predictions(model, rows, head)
                     for head in ("framing", "stance") if head in model.heads}
    for name, index in sets.items():
        results[name] = {
            head: head_metrics([rows[i].labels[head] for i in index], proba[index], LABELS[head])
            for head, proba in probabilities.items()
        }
    return results


def real_news_test(model: Presslens, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The card's ``real_news_test`` figures for ``model``: what ``presslens evaluate
    --real-news`` prints; empty (after saying why) without ``../shared/datasets``."""
    from training.annotations import load_real, of_split
    from training.proxies import datasets_dir

    test = of_split(load_real(datasets_dir(), log=log), "test")
    return real_news_metrics(model, test) if test else {}


def score_model(model: Presslens, config: TrainingConfig,
                real: list[RealSentence]) -> dict[str, Any]:
    """Everything the card reports beyond cross-validation: held-out files, the real-news
    test split, and the dataset proxies."""
    from training.annotations import of_split
    from training.proxies import proxy_summary

    results: dict[str, Any] = {}
    if config.eval:
        results["heldout"] = evaluate_files(model, config.eval)
    for split in ("dev", "test"):  # dev: what choices were made on; test: held out
        if held_out := of_split(real, split):
            results[f"real_news_{split}"] = real_news_metrics(model, held_out)
    if config.proxies:
        results["proxies"] = proxy_summary(model, config.datasets_dir)
    return results
