"""The classifier heads: one calibrated scikit-learn classifier per label.

Logistic regression on frozen embeddings is the right size for a few thousand labelled
sentences; temperature scaling on cross-validated logits makes its probabilities mean
what they say (the card reports the expected calibration error).
"""

from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

DEFAULT_C = {"framing": 0.05, "stance": 0.05}


def make_head(C: float = 0.05, calibration_folds: int = 5) -> CalibratedClassifierCV:
    """A fresh, unfitted head: standardised features, balanced logistic regression."""
    base: Pipeline = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=C, class_weight="balanced", max_iter=3000),
    )
    return CalibratedClassifierCV(base, method="temperature", cv=calibration_folds)
