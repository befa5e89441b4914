"""What a head is to a model: its classes, and probabilities from features and texts.

Every head that serves satisfies ``Head``: ``model.linear_head.LinearHead`` (a calibrated
logistic layer as arrays) ignores the texts; ``model.lexical.CombinedHead`` also reads
them, for its n-gram model. Training fits scikit-learn estimators (``training.heads``) and
hands the model their arrays, so scoring in training runs the serving arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Head(Protocol):
    """A fitted head, as ``model.predict.Presslens`` applies it."""

    @property
    def classes_(self) -> np.ndarray: ...

    def predict_proba(self, features: np.ndarray, texts: Sequence[str] = ()) -> np.ndarray:
        """One row of class probabilities (in ``classes_`` order) per row of ``features``."""
        ...


class FeatureHead(Protocol):
    """Probabilities from features alone: a combined head's embedding part."""

    @property
    def classes_(self) -> np.ndarray: ...

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...


class TextHead(Protocol):
    """Probabilities from texts alone: a combined head's n-gram part."""

    @property
    def classes_(self) -> np.ndarray: ...

    def predict_proba(self, texts: list[str]) -> np.ndarray: ...
