"""The report's per-group scores: how much the score moves between stories (or topics,
or registers), which the row bootstrap's intervals do not show."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from training.dataset import Row
from training.report_intervals import confusion_counts, scores_from_confusion

GROUP_COLUMNS = ("story", "topic", "register")


def read_records(rows: list[Row]) -> dict[tuple[str, int], dict[str, str]]:
    """Each row's full CSV record, found by file and line as ``dataset.load`` numbers them."""
    records: dict[tuple[str, int], dict[str, str]] = {}
    for file in dict.fromkeys(r.file for r in rows):
        content = Path(file).read_text(encoding="utf-8")
        reader = csv.DictReader(content.splitlines(keepends=True))
        reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
        for record in reader:
            records[(file, reader.line_num)] = record
    return records


def group_values(
    rows: list[Row], records: dict[tuple[str, int], dict[str, str]]
) -> dict[str, list[str | None]]:
    """Per grouping column the data has: each row's value; a column that splits the rows
    exactly as an earlier one does (each story one topic, say) is left out as redundant."""
    found: dict[str, list[str | None]] = {}
    for column in GROUP_COLUMNS:
        values = [(records.get((r.file, r.line), {}).get(column) or "").strip() or None
                  for r in rows]
        if len({v for v in values if v}) < 2:
            continue
        partition = _partition(values)
        if any(partition == _partition(other) for other in found.values()):
            continue
        found[column] = values
    return found


def _partition(values: list[str | None]) -> set[frozenset[int]]:
    return {frozenset(i for i, v in enumerate(values) if v == name) for name in set(values) if name}


def group_scores(
    values: list[str | None], y_true: np.ndarray, y_model: np.ndarray, y_base: np.ndarray | None,
    k: int,
) -> list[dict[str, Any]]:
    """Accuracy and macro-F1 per group, model and baseline, largest group first."""
    out = []
    for name in sorted({v for v in values if v}):
        inside = np.array([v == name for v in values])
        model_scores = scores_from_confusion(confusion_counts(y_true[inside], y_model[inside], k))
        entry = {"name": name, "n": int(inside.sum()),
                 "accuracy": round(float(model_scores[0]), 4),
                 "macro_f1": round(float(model_scores[1]), 4)}
        if y_base is not None:
            base = scores_from_confusion(confusion_counts(y_true[inside], y_base[inside], k))
            entry |= {"baseline_accuracy": round(float(base[0]), 4),
                      "baseline_macro_f1": round(float(base[1]), 4)}
        out.append(entry)
    return sorted(out, key=lambda g: (-g["n"], g["name"]))
