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
from sklearn.model_selection import GroupKFold, cross_val_predict

from model import target_features
from model.artifact import lexical_file, write_model
from model.card import EncoderInfo, ModelCard, TrainingFile, library_versions, utc_now
from model.encoder import DEFAULT_ENCODER, Encoder
from model.features import Unit
from model.heads import make_classifier, make_head, make_lexical
from model.labels import FRAMING, LABELS
from model.lexical import LEXICAL_WEIGHT, CombinedHead, sharpen
from model.predict import Presslens
from training.cache import DEFAULT_CACHE_DIR, FeatureCache
from training.dataset import Dataset, Row, load
from training.metrics import head_metrics

# Both heads have always picked the low end (0.1 never won; 0.001 was added when stance's
# features doubled with the middle layer).
C_GRID = (0.001, 0.003, 0.01, 0.03)
CV_FOLDS = 5
LEXICAL_HEADS = (FRAMING,)  # heads that get an n-gram model beside the embedding head
Progress = Callable[[str, int, int], None]


def _groups(rows: list[Row]) -> np.ndarray:
    """Story when known (so no story is on both sides of a fold), else the text itself."""
    return np.array([r.story or hashlib.sha1(r.text.encode()).hexdigest() for r in rows])


def head_matrix(
    cache: FeatureCache, rows: list[Row], head: str, progress: Progress | None = None
) -> np.ndarray:
    units = [Unit(r.text, r.target if head != FRAMING else None) for r in rows]
    report = (lambda done, total: progress(f"embedding {head}", done, total)) if progress else None
    return cache.features(units, head, report)


def _splitter(groups: np.ndarray, folds: int = CV_FOLDS) -> tuple[GroupKFold, np.ndarray]:
    """Folds grouped by story; with fewer stories than folds, rows are the only units left."""
    if len(set(groups)) < folds:
        groups = np.arange(len(groups))
    return GroupKFold(n_splits=folds), groups


def cross_validated(estimator: Any, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities (classes in sorted order), folds grouped by story."""
    splitter, groups = _splitter(groups)
    return cross_val_predict(estimator, X, y, groups=groups, cv=splitter, method="predict_proba")


def choose_c(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, dict[str, float]]:
    """The C with the best story-grouped cross-validated macro-F1.

    Temperature scaling never changes the arg-max, so C is chosen on the bare classifier;
    calibration is fitted once, for the chosen C only.
    """
    classes = list(np.unique(y))
    scores = {}
    for C in C_GRID:
        proba = cross_validated(make_classifier(C), X, y, groups)
        scores[str(C)] = head_metrics(list(y), proba, classes)["macro_f1"]
    best = max(C_GRID, key=lambda C: scores[str(C)])
    return best, scores


def fit_heads(
    dataset: Dataset, encoder: Encoder, cache_dir: Path = DEFAULT_CACHE_DIR,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Fitted heads, the same heads combined with their n-gram models (``LEXICAL_HEADS``
    only; as a model applies them), and their cross-validation metrics."""
    cache = FeatureCache(encoder, cache_dir)
    heads: dict[str, Any] = {}
    combined: dict[str, CombinedHead] = {}
    metrics: dict[str, Any] = {}
    for head in dataset.heads():
        rows = dataset.for_head(head)
        X = head_matrix(cache, rows, head, progress)
        y = np.array([r.labels[head] for r in rows])
        groups = _groups(rows)
        C, grid = choose_c(X, y, groups)
        proba = cross_validated(make_head(C), X, y, groups)
        heads[head] = make_head(C).fit(X, y)
        metrics[head] = {"C": C, "macro_f1_by_C": grid}
        if head in LEXICAL_HEADS:
            texts = np.array([r.text for r in rows], dtype=object)
            metrics[head]["embedding_only_cv_by_story"] = head_metrics(
                list(y), proba, list(np.unique(y)))
            lexical_proba = cross_validated(make_lexical(), texts, y, groups)
            mix = (1 - LEXICAL_WEIGHT) * proba + LEXICAL_WEIGHT * lexical_proba
            beta = fit_temperature(mix, y)
            proba = sharpen(mix, beta)
            combined[head] = CombinedHead(heads[head], make_lexical().fit(texts, y),
                                          LEXICAL_WEIGHT, beta)
        metrics[head]["cv_by_story"] = head_metrics(list(y), proba, list(np.unique(y)))
    return heads, combined, metrics


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> float:
    """The beta minimising the log loss of ``sharpen(proba, beta)`` (classes sorted)."""
    from scipy.optimize import minimize_scalar

    index = np.searchsorted(np.unique(y), y)

    def loss(log_beta: float) -> float:
        sharpened = sharpen(proba, float(np.exp(log_beta)))
        return float(-np.mean(np.log(np.clip(sharpened[np.arange(len(y)), index], 1e-12, None))))

    return round(float(np.exp(minimize_scalar(loss, bounds=(-3.0, 3.0)).x)), 6)


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
    heads, combined, metrics = fit_heads(dataset, encoder, cache_dir, progress)
    card = build_card(dataset, encoder, metrics, model_id).model_copy(update={"lexical": {
        head: {"file": lexical_file(head), "weight": c.weight, "beta": c.beta,
               "model": "TF-IDF word 1-2-grams (min_df 2, sublinear tf) + balanced logistic "
                        "regression; probabilities averaged with the embedding head's"}
        for head, c in combined.items()
    }})
    if evaluate is not None:
        model = Presslens(encoder, heads | combined, card,
                          FeatureCache(encoder, cache_dir).features)
        card = card.model_copy(update={"metrics": metrics | evaluate(model)})
    write_model(out, heads, card, lexical={head: c.lexical for head, c in combined.items()})
    return card
