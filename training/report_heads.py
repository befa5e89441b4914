"""One head's section of the report: scores with intervals, the margin over the baseline,
the errors worth reading, per-group scores and the figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.labels import LABELS
from training import plots
from training.dataset import Row
from training.metrics import head_metrics
from training.report_groups import group_scores
from training.report_intervals import Bootstrap, interval, intervals, with_intervals

RELIABILITY_BINS = 15  # the bins of metrics.expected_calibration_error
EXAMPLES = 10


@dataclass(frozen=True, slots=True)
class HeadInputs:
    """One head's evaluation rows with the model's and the baseline's probabilities."""

    head: str
    rows: list[Row]
    proba: np.ndarray
    baseline: np.ndarray | None
    groups: dict[str, list[str | None]]


def _example(row: Row, proba: np.ndarray, classes: list[str], gold: int) -> dict[str, Any]:
    predicted = int(proba.argmax())
    return {
        "text": row.text, "target": row.target, "story": row.story,
        "where": f"{Path(row.file).name}:{row.line}", "gold": classes[gold],
        "predicted": classes[predicted], "confidence": round(float(proba[predicted]), 4),
        "p_gold": round(float(proba[gold]), 4),
    }


def examples(
    rows: list[Row], proba: np.ndarray, y_true: np.ndarray, classes: list[str], n: int = EXAMPLES
) -> dict[str, list[dict[str, Any]]]:
    """The mistakes the model was surest of, and the right answers it was least sure of."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    wrong = [i for i in np.argsort(-confidence, kind="stable") if not correct[i]][:n]
    unsure = [i for i in np.argsort(confidence, kind="stable") if correct[i]][:n]
    return {
        "confident_mistakes": [_example(rows[i], proba[i], classes, y_true[i]) for i in wrong],
        "unsure_correct": [_example(rows[i], proba[i], classes, y_true[i]) for i in unsure],
    }


def head_section(inputs: HeadInputs, out_dir: Path, settings: Bootstrap) -> dict[str, Any]:
    """Scores with intervals, the margin over the baseline, error tables, figures."""
    head, classes = inputs.head, list(LABELS[inputs.head])
    k = len(classes)
    y_true = np.array([classes.index(r.labels[head]) for r in inputs.rows])
    gold = [classes[i] for i in y_true]
    y_model = inputs.proba.argmax(axis=1)
    systems = [y_model] if inputs.baseline is None else [y_model, inputs.baseline.argmax(axis=1)]
    low, high, margin_low, margin_high = intervals(y_true, systems, k, settings)
    model = with_intervals(head_metrics(gold, inputs.proba, classes), low[0], high[0])
    section: dict[str, Any] = {"n": len(inputs.rows), "labels": classes, "model": model}
    if inputs.baseline is not None:
        baseline = with_intervals(head_metrics(gold, inputs.baseline, classes), low[1], high[1])
        section["baseline"] = baseline
        section["margin"] = {
            name: {"value": round(model[name] - baseline[name], 4),
                   "ci": interval(margin_low[0, i], margin_high[0, i])}
            for i, name in enumerate(("accuracy", "macro_f1"))
        }
    section["examples"] = examples(inputs.rows, inputs.proba, y_true, classes)
    y_base = systems[1] if len(systems) > 1 else None
    section["groups"] = {
        column: group_scores(values, y_true, y_model, y_base, k)
        for column, values in inputs.groups.items()
    }
    section["plots"] = head_plots(head, section, inputs.proba, y_true, out_dir)
    return section


def head_plots(
    head: str, section: dict[str, Any], proba: np.ndarray, y_true: np.ndarray, out_dir: Path
) -> dict[str, Any]:
    """The head's figures, written beside the report: confusion, reliability, per group."""
    model = section["model"]
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    drawn: dict[str, Any] = {
        "confusion": plots.confusion_heatmap(
            section["labels"], model["confusion"], f"{head}: confusion",
            out_dir / f"confusion_{head}.png"),
        "reliability": plots.reliability_diagram(
            confidence, correct, model["ece"], RELIABILITY_BINS, f"{head}: reliability",
            out_dir / f"reliability_{head}.png"),
    }
    if "baseline" in section:
        drawn["baseline_confusion"] = plots.confusion_heatmap(
            section["labels"], section["baseline"]["confusion"], f"{head}: baseline confusion",
            out_dir / f"confusion_{head}_baseline.png")
    drawn["groups"] = {
        column: plots.group_bars(
            [g["name"] for g in groups], [g["accuracy"] for g in groups],
            [g.get("baseline_accuracy") for g in groups], [g["n"] for g in groups],
            f"{head}: accuracy per {column}", out_dir / f"{column}_{head}.png")
        for column, groups in section["groups"].items()
    }
    return drawn
