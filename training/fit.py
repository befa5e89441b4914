"""Fit the heads from validated CSVs and write a model directory with its card.

Order matters: validate all data, then embed (cached), then choose each head's
regularisation by cross-validation grouped by story on the training data only, fit,
and only then replace the output directory, atomically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from model import target_features
from sklearn.model_selection import GroupKFold, cross_val_predict

from model.artifact import write_model
from model.card import EncoderInfo, ModelCard, TrainingFile, library_versions, utc_now
from model.encoder import DEFAULT_ENCODER, Encoder
from model.features import Unit
from model.heads import make_head
from model.labels import FRAMING, LABELS
from model.predict import Presslens
from training.cache import DEFAULT_CACHE_DIR, FeatureCache
from training.dataset import Dataset, Row, load
from training.metrics import head_metrics

C_GRID = (0.01, 0.03, 0.1, 0.3)
CV_FOLDS = 5
Progress = Callable[[str, int, int], None]


def _groups(rows: list[Row]) -> np.ndarray:
    """Story when known (so no story is on both sides of a fold), else the text itself."""
    return np.array([r.story or hashlib.sha1(r.text.encode()).hexdigest() for r in rows])


def head_matrix(
    cache: FeatureCache, rows: list[Row], head: str, progress: Progress | None = None
) -> np.ndarray:
    units = [Unit(r.text, r.target if head != FRAMING else None) for r in rows]
    report = (lambda done, total: progress(f"embedding {head}", done, total)) if progress else None
    framing, stance = cache.features(units, report)
    return framing if head == FRAMING else stance


def cross_validated(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, C: float, folds: int = CV_FOLDS
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities and their class order, folds grouped by story."""
    estimator = make_head(C)
    if len(set(groups)) < folds:  # one or few stories: rows are the only units left to split
        groups = np.arange(len(y))
    splitter = GroupKFold(n_splits=folds)
    proba = cross_val_predict(estimator, X, y, groups=groups, cv=splitter, method="predict_proba")
    return proba, np.unique(y)


def choose_c(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, dict[str, Any]]:
    """The C with the best story-grouped cross-validated macro-F1, and that CV's metrics."""
    best: tuple[float, float, dict[str, Any]] | None = None
    for C in C_GRID:
        proba, classes = cross_validated(X, y, groups, C)
        metrics = head_metrics(list(y), proba, list(classes))
        if best is None or metrics["macro_f1"] > best[1]:
            best = (C, metrics["macro_f1"], metrics)
    assert best is not None
    return best[0], best[2]


def fit_heads(
    dataset: Dataset, encoder: Encoder, cache_dir: Path = DEFAULT_CACHE_DIR,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fitted heads and their cross-validation metrics, one per label column present."""
    cache = FeatureCache(encoder, cache_dir)
    heads: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for head in dataset.heads():
        rows = dataset.for_head(head)
        X = head_matrix(cache, rows, head, progress)
        y = np.array([r.labels[head] for r in rows])
        C, cv = choose_c(X, y, _groups(rows))
        heads[head] = make_head(C).fit(X, y)
        metrics[head] = {"C": C, "cv_by_story": cv}
    return heads, metrics


def build_card(
    dataset: Dataset, encoder: Encoder, metrics: dict[str, Any], model_id: str
) -> ModelCard:
    created = utc_now()
    return ModelCard(
        model_id=model_id,
        version=created.replace(":", "").replace("-", "")[:15],
        created_at=created,
        labels={head: list(LABELS[head]) for head in dataset.heads()},
        encoder=EncoderInfo(
            name=encoder.name,
            checksum=encoder.checksum,
            dimension=encoder.dimension,
            pooling=encoder.pooling.mode,
            normalize=encoder.pooling.normalize,
            max_seq_length=encoder.pooling.max_seq_length,
        ),
        stance_conditioning=getattr(target_features, "DESCRIPTION", {}),
        libraries=library_versions(),
        training_files=[
            TrainingFile(path=f.path, sha256=f.sha256, rows=f.rows, source=f.source)
            for f in dataset.files
        ],
        files={},
        metrics=metrics,
    )


def train(
    paths: list[Path],
    out: Path,
    encoder_name: str = DEFAULT_ENCODER,
    model_id: str = "presslens-custom",
    cache_dir: Path = DEFAULT_CACHE_DIR,
    progress: Progress | None = None,
    evaluate: Callable[[Presslens], dict[str, Any]] | None = None,
) -> ModelCard:
    """Validate, embed, fit, and write ``out`` atomically; returns the written card.

    ``evaluate`` scores the fitted model in memory (held-out files, proxies) so that the
    card is complete before the single atomic write.
    """
    dataset = load(paths)
    from model.encoder import TorchEncoder

    encoder = TorchEncoder(encoder_name)
    heads, metrics = fit_heads(dataset, encoder, cache_dir, progress)
    card = build_card(dataset, encoder, metrics, model_id)
    if evaluate is not None:
        extra = evaluate(Presslens(encoder, heads, card))
        card = card.model_copy(update={"metrics": metrics | extra})
    write_model(out, heads, card)
    return card
