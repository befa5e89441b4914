"""A fitted head reduced to its arrays, for serving without scikit-learn.

Every head is standardisation, one multinomial logistic layer and a temperature
(``training.heads.make_head``). Applying that is three numpy lines, while importing
scikit-learn and skops to rebuild the estimator costs a serving process about three
seconds and a hundred MB. Training writes both forms: ``<head>.skops`` keeps the
scikit-learn estimator for inspection and refitting, ``<head>.npz`` serves. The arrays are
read with ``allow_pickle=False``, so loading them runs no code from the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by each row's maximum so that exp never overflows."""
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


class UnsupportedHeadError(TypeError):
    """The estimator is not the standardise, logistic, temperature head this reduces."""


@dataclass(frozen=True, eq=False)
class LinearHead:
    """``softmax(beta_ * (((X - mean_) / scale_) @ coef_.T + intercept_))``."""

    classes_: np.ndarray
    mean_: np.ndarray
    scale_: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray
    beta_: float

    @classmethod
    def from_estimator(cls, head: Any) -> LinearHead:
        """The arrays of a fitted ``make_head()`` (one calibrated classifier, temperature)."""
        try:
            (calibrated,) = head.calibrated_classifiers_
            (temperature,) = calibrated.calibrators
            # a head calibrated on held-out data wraps its pipeline in a FrozenEstimator
            pipeline = getattr(calibrated.estimator, "estimator", calibrated.estimator)
            scaler, logistic = (step for _, step in pipeline.steps)
            beta = float(temperature.beta_)
            mean, scale = scaler.mean_, scaler.scale_
            coef, intercept = logistic.coef_, logistic.intercept_
        except (AttributeError, ValueError) as error:
            raise UnsupportedHeadError(
                f"{type(head).__name__} is not a presslens head: {error}"
            ) from error
        if len(head.classes_) < 3:  # binary logistic regression has one row of coefficients;
            # training refuses data without all three classes, so no head gets here
            raise UnsupportedHeadError("a head needs three or more classes to reduce to arrays")
        return cls(np.asarray(head.classes_).astype(str), mean, scale, coef, intercept, beta)

    def predict_proba(self, X: np.ndarray, texts: Sequence[str] = ()) -> np.ndarray:
        """Class probabilities; ``texts`` is unused (``model.heads.Head``)."""
        logits = ((np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_) @ self.coef_.T
        return softmax(self.beta_ * (logits + self.intercept_))

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez(handle, classes=self.classes_, mean=self.mean_, scale=self.scale_,
                     coef=self.coef_, intercept=self.intercept_, beta=np.float64(self.beta_))

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        with np.load(path, allow_pickle=False) as arrays:
            return cls(arrays["classes"], arrays["mean"], arrays["scale"], arrays["coef"],
                       arrays["intercept"], float(arrays["beta"]))
