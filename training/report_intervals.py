"""The report's bootstrap intervals: how sure a score is, and a margin over the baseline.

The intervals resample rows, so they show sampling noise only. Every system is scored on
the same resamples (a paired bootstrap), so a margin's interval is that of the difference,
not the gap between two independent intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import bootstrap, mannwhitneyu

from training.proxies import ScoreProxy


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """How the intervals are drawn: rows resampled with replacement, percentile method."""

    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    batch: int = 100

    def describe(self) -> dict[str, Any]:
        return {"resamples": self.resamples, "confidence": self.confidence, "seed": self.seed,
                "unit": "row", "method": "percentile"}


def scores_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """Accuracy, macro-F1, then per-class precision, recall and F1, for (..., k, k) counts.

    Undefined ratios count as 0, as ``zero_division=0`` does in scikit-learn, so the point
    estimate here equals ``head_metrics``'s.
    """
    true_positive = np.diagonal(confusion, axis1=-2, axis2=-1)
    predicted = confusion.sum(axis=-2)
    actual = confusion.sum(axis=-1)

    def ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        return np.divide(top, bottom, out=np.zeros(np.broadcast(top, bottom).shape),
                         where=bottom > 0)

    precision = ratio(true_positive, predicted)
    recall = ratio(true_positive, actual)
    f1 = ratio(2 * true_positive, predicted + actual)
    accuracy = ratio(true_positive.sum(axis=-1), confusion.sum(axis=(-2, -1)))
    return np.concatenate(
        [accuracy[..., None], f1.mean(axis=-1)[..., None], precision, recall, f1], axis=-1
    )


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """The (k, k) confusion matrix, rows gold, as floats for ``scores_from_confusion``."""
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k).astype(float)


def pairs_from_confusion(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gold, predicted) index pairs with the counts of a confusion matrix: all a row
    bootstrap of confusion-derived scores needs."""
    gold, predicted = np.nonzero(confusion)
    counts = confusion[gold, predicted]
    return np.repeat(gold, counts), np.repeat(predicted, counts)


def intervals(
    y_true: np.ndarray, y_preds: Sequence[np.ndarray], k: int, settings: Bootstrap
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score intervals per system, and intervals of the first system's margin over the others.

    All systems are scored on the same resamples (a paired bootstrap), so the margin's
    interval is not the gap between two independent intervals. Returns (low, high) of shape
    (systems, 2 + 3k) and (low, high) of the margins, shape (systems - 1, 2): accuracy and
    macro-F1 differences.
    """
    one_hot = np.zeros((len(y_preds), len(y_true), k * k))
    for system, y_pred in enumerate(y_preds):
        one_hot[system, np.arange(len(y_true)), y_true * k + y_pred] = 1
    systems, quantities = len(y_preds), 2 + 3 * k

    def statistic(index: np.ndarray, axis: int = -1) -> np.ndarray:
        batch = index.shape[:-1]
        confusion = one_hot[:, index].sum(axis=-2).reshape(systems, *batch, k, k)
        scores = scores_from_confusion(confusion)  # (systems, *batch, quantities)
        margins = scores[:1, ..., :2] - scores[1:, ..., :2]
        return np.concatenate(
            [np.moveaxis(scores, -1, 1).reshape(systems * quantities, *batch),
             np.moveaxis(margins, -1, 1).reshape((systems - 1) * 2, *batch)]
        )

    result = bootstrap(
        (np.arange(len(y_true)),), statistic, n_resamples=settings.resamples,
        confidence_level=settings.confidence, method="percentile", vectorized=True,
        batch=settings.batch, rng=np.random.default_rng(settings.seed),
    )
    low, high = result.confidence_interval
    cut = systems * quantities
    return (low[:cut].reshape(systems, quantities), high[:cut].reshape(systems, quantities),
            low[cut:].reshape(systems - 1, 2), high[cut:].reshape(systems - 1, 2))


def interval(low: float, high: float) -> list[float]:
    """[low, high] as the report prints every interval: four decimals."""
    return [round(float(low), 4), round(float(high), 4)]


def with_intervals(metrics: dict[str, Any], low: np.ndarray, high: np.ndarray) -> dict[str, Any]:
    """``head_metrics``'s dict plus ``ci``: [low, high] for every score it reports."""
    classes = metrics["labels"]
    k = len(classes)
    per_class = {
        label: {
            name: interval(low[2 + block * k + i], high[2 + block * k + i])
            for block, name in enumerate(("precision", "recall", "f1"))
        }
        for i, label in enumerate(classes)
    }
    ci = {"accuracy": interval(low[0], high[0]), "macro_f1": interval(low[1], high[1]),
          "per_class": per_class}
    return metrics | {"ci": ci}


def auc_interval(proxy: ScoreProxy, settings: Bootstrap) -> list[float]:
    """AUC interval from a bootstrap stratified by class (positives and negatives resampled
    apart, as pROC does), with AUC computed as the Mann-Whitney U over n1 * n0."""
    positive = proxy.score[proxy.gold == 1]
    negative = proxy.score[proxy.gold == 0]

    def auc(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return mannwhitneyu(x, y, axis=axis).statistic / (x.shape[axis] * y.shape[axis])

    result = bootstrap(
        (positive, negative), auc, vectorized=True, n_resamples=settings.resamples,
        confidence_level=settings.confidence, method="percentile", batch=settings.batch,
        rng=np.random.default_rng(settings.seed),
    )
    return interval(result.confidence_interval.low, result.confidence_interval.high)
