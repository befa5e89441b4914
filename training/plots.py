"""The report's figures, drawn headless and written as PNG files beside the HTML.

Figures are built on ``matplotlib.figure.Figure`` (the Agg canvas) rather than pyplot, so
nothing depends on a display or on pyplot's global state. PNGs are saved without the
"Software" metadata, so re-running on the same data rewrites byte-identical files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

DPI = 110
MODEL_COLOR = "#2563eb"
BASELINE_COLOR = "#9ca3af"


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate and its confidence interval, as drawn with error bars."""

    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Curve:
    name: str
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float


def _save(figure: Figure, path: Path) -> str:
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    return path.name


def headline(
    heads: Sequence[str], model: Sequence[Interval], baseline: Sequence[Interval | None],
    path: Path,
) -> str:
    """Macro-F1 per head for the model and the baseline, with their 95 % intervals."""
    figure = Figure(figsize=(5.6, 3.4), layout="constrained")
    axes = figure.add_subplot()
    x = np.arange(len(heads))
    width = 0.36
    for offset, name, color, values in (
        (-width / 2, "presslens", MODEL_COLOR, list(model)),
        (width / 2, "TF-IDF + LR baseline", BASELINE_COLOR, list(baseline)),
    ):
        shown = [(i, v) for i, v in enumerate(values) if v is not None]
        if not shown:
            continue
        where = np.array([x[i] + offset for i, _ in shown])
        heights = np.array([v.value for _, v in shown])
        errors = np.array([[v.value - v.low for _, v in shown],
                           [v.high - v.value for _, v in shown]])
        axes.bar(where, heights, width, yerr=errors, capsize=4, color=color, label=name)
        for position, height in zip(where, heights, strict=True):
            axes.text(position, 0.02, f"{height:.2f}", ha="center", va="bottom", fontsize=9,
                      color="white", fontweight="bold")
    axes.set_xticks(x, list(heads))
    axes.set_ylim(0, 1)
    axes.set_ylabel("macro-F1 (95 % CI)")
    axes.set_title("Held-out macro-F1, model vs baseline")
    axes.legend(loc="upper right", fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def confusion_heatmap(
    labels: Sequence[str], confusion: Sequence[Sequence[int]], title: str, path: Path
) -> str:
    """Counts, coloured by the share of each gold row (so colour reads as recall)."""
    counts = np.asarray(confusion, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    figure = Figure(figsize=(4.8, 4.0), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for (row, column), count in np.ndenumerate(counts):
        color = "white" if shares[row, column] > 0.55 else "black"
        axes.text(column, row, f"{int(count)}\n{shares[row, column]:.0%}", ha="center",
                  va="center", color=color, fontsize=9)
    ticks = np.arange(len(labels))
    axes.set_xticks(ticks, list(labels), rotation=20, ha="right")
    axes.set_yticks(ticks, list(labels))
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="share of gold row", shrink=0.8)
    return _save(figure, path)


def reliability_diagram(
    confidence: np.ndarray, correct: np.ndarray, ece: float, bins: int, title: str, path: Path
) -> str:
    """Accuracy against top-label confidence per bin, over a histogram of confidences."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    hits = np.bincount(which, weights=correct.astype(float), minlength=bins)
    accuracy = np.divide(hits, counts, out=np.full(bins, np.nan), where=counts > 0)
    centres = (edges[:-1] + edges[1:]) / 2
    figure = Figure(figsize=(4.8, 5.0), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    filled = counts > 0
    top.bar(centres[filled], accuracy[filled], width=1 / bins, color=MODEL_COLOR,
            edgecolor="white", label="accuracy in bin")
    top.bar(centres[filled], centres[filled] - accuracy[filled], bottom=accuracy[filled],
            width=1 / bins, fill=False, hatch="///", edgecolor="#f97316", linewidth=0.8,
            label="gap to bin centre")
    top.plot([0, 1], [0, 1], linestyle="--", color="black", linewidth=1, label="perfect")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(f"{title}  (ECE {ece:.3f})")
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(centres, counts, width=1 / bins, color=BASELINE_COLOR, edgecolor="white")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("confidence of the predicted label")
    bottom.set_ylabel("rows")
    return _save(figure, path)


def group_bars(
    names: Sequence[str], model: Sequence[float], baseline: Sequence[float | None],
    sizes: Sequence[int], title: str, path: Path,
) -> str:
    """Accuracy per group (story, topic, …), model bars with the baseline beside them."""
    height = max(2.4, 0.32 * len(names) + 1.2)
    figure = Figure(figsize=(6.4, height), layout="constrained")
    axes = figure.add_subplot()
    y = np.arange(len(names))
    axes.barh(y - 0.2, model, 0.4, color=MODEL_COLOR, label="presslens")
    if any(b is not None for b in baseline):
        values = [np.nan if b is None else b for b in baseline]
        axes.barh(y + 0.2, values, 0.4, color=BASELINE_COLOR, label="baseline")
    axes.set_yticks(y, [f"{name} (n={n})" for name, n in zip(names, sizes, strict=True)],
                    fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("accuracy")
    axes.set_title(title)
    figure.legend(loc="outside lower center", ncols=2, fontsize=8)
    axes.grid(axis="x", alpha=0.3)
    return _save(figure, path)


def roc_curves(curves: Sequence[Curve], title: str, path: Path) -> str:
    """One ROC curve per proxy set, with its AUC in the legend."""
    figure = Figure(figsize=(4.8, 4.4), layout="constrained")
    axes = figure.add_subplot()
    for curve in curves:
        axes.plot(curve.fpr, curve.tpr, linewidth=1.8, label=f"{curve.name} (AUC {curve.auc:.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="black", linewidth=1, label="chance")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize=8)
    return _save(figure, path)
