"""The report's yardstick: TF-IDF + logistic regression on the sentence alone.

One run scores the model and this baseline on the same rows, so the embedding model's
margin is measured, not remembered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline

from training.dataset import Row, story_key
from training.heads import word_ngrams

BASELINE_C = (1.0, 3.0, 10.0, 30.0)  # saga stops converging on stance above 30
DESCRIPTION = ("TF-IDF word 1-2-grams + balanced logistic regression on the sentence alone; "
               "C by story-grouped cross-validated macro-F1")


def fit_baseline(rows: list[Row], head: str) -> tuple[Pipeline, dict[str, Any]]:
    """TF-IDF word 1-2-grams into a balanced logistic regression, C chosen like the model's.

    The baseline sees the sentence only (no target). Its C is picked by macro-F1 in
    cross-validation grouped by story, as the model's heads are, so it is a fair yardstick;
    the vocabulary is fitted once on all its training rows (labels never enter it).
    """
    texts = [r.text for r in rows]
    labels = [r.labels[head] for r in rows]
    groups = np.array([story_key(r) for r in rows])
    splits = list(GroupKFold(n_splits=min(5, len(set(groups)))).split(texts, labels, groups))
    pipeline = make_pipeline(
        word_ngrams(),
        LogisticRegressionCV(Cs=list(BASELINE_C), cv=splits, scoring="f1_macro", solver="saga",
                             n_jobs=-1, class_weight="balanced", max_iter=1000, l1_ratios=(0.0,),
                             use_legacy_attributes=False, random_state=0),
    )
    pipeline.fit(texts, labels)
    search = pipeline[-1]
    cv_macro_f1 = float(search.scores_.mean(axis=0).max())  # folds x l1 ratios x Cs
    info = {"C": float(search.C_), "cv_macro_f1": round(cv_macro_f1, 4), "train_rows": len(rows)}
    return pipeline, info


def baseline_predictions(pipeline: Pipeline, rows: list[Row], classes: Sequence[str]) -> np.ndarray:
    """Probabilities per row, columns in ``classes``' order (the model's)."""
    proba = pipeline.predict_proba([r.text for r in rows])
    order = [list(pipeline.classes_).index(c) for c in classes]
    return proba[:, order]
