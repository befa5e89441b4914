"""Score a model on labelled CSVs: the same metrics the card reports, per head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model.features import Unit
from model.labels import LABELS, STANCE
from model.predict import Presslens
from training.dataset import Row, load
from training.metrics import head_metrics


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
