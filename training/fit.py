"""Fit the heads from validated CSVs and write a model directory with its card.

Order matters: validate all data, then embed (cached), then choose each head's
regularisation by cross-validation grouped by story on the training data only, fit,
and only then replace the output directory, atomically.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict
from sklearn.model_selection import GroupKFold, cross_val_predict

from model import target_features
from model.artifact import lexical_file, write_model
from model.card import EncoderInfo, ModelCard, TrainingFile, library_versions, utc_now
from model.encoder import DEFAULT_ENCODER, Encoder
from model.features import Unit
from model.heads import Head
from model.labels import FRAMING, LABELS
from model.lexical import LEXICAL_WEIGHT, CombinedHead, LexicalHead, mix, sharpen
from model.linear_head import LinearHead
from model.predict import Presslens
from training.cache import FeatureCache
from training.dataset import Dataset, Row, story_key
from training.heads import make_classifier, make_head, make_lexical
from training.metrics import head_metrics

if TYPE_CHECKING:
    from training.annotations import RealSentence
    from training.trainer import TrainingConfig

Progress = Callable[[str, int, int], None]


class HeadConfig(BaseModel):
    """The heads' hyper-parameters; recorded in the card with the rest of the run."""

    model_config = ConfigDict(frozen=True)

    # Both heads have always picked the low end (0.1 never won; 0.001 was added when
    # stance's features doubled with the middle layer).
    c_grid: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03)
    cv_folds: int = 5
    lexical_heads: tuple[str, ...] = (FRAMING,)  # heads with an n-gram model beside them
    lexical_weight: float = LEXICAL_WEIGHT
    # "cv": C and the temperature by story-grouped cross-validation on the training rows;
    # "dev": on a held-out dev set. A fine-tuned encoder has seen the training rows, so
    # their features are easier than new text's: cross-validation on them over-rates
    # every C and leaves the heads over-confident (ECE 0.09 on real held-out sentences).
    selection: Literal["cv", "dev"] = "cv"


def head_matrix(
    cache: FeatureCache, rows: list[Row], head: str, progress: Progress | None = None
) -> np.ndarray:
    units = [Unit(r.text, r.target if head != FRAMING else None) for r in rows]
    report = (lambda done, total: progress(f"embedding {head}", done, total)) if progress else None
    return cache.features(units, head, report)


def _splitter(groups: np.ndarray, folds: int = 5) -> tuple[GroupKFold, np.ndarray]:
    """Folds grouped by story; with fewer stories than folds, rows are the only units left."""
    if len(set(groups)) < folds:
        groups = np.arange(len(groups))
    return GroupKFold(n_splits=folds), groups


def cross_validated(
    estimator: Any, X: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 5
) -> np.ndarray:
    """Out-of-fold probabilities (classes in sorted order), folds grouped by story."""
    splitter, groups = _splitter(groups, folds)
    return cross_val_predict(estimator, X, y, groups=groups, cv=splitter, method="predict_proba")


def choose_c(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, config: HeadConfig
) -> tuple[float, dict[str, float]]:
    """The C with the best story-grouped cross-validated macro-F1.

    Temperature scaling never changes the arg-max, so C is chosen on the bare classifier;
    calibration is fitted once, for the chosen C only.
    """
    classes = list(np.unique(y))
    scores = {}
    for C in config.c_grid:
        proba = cross_validated(make_classifier(C), X, y, groups, config.cv_folds)
        scores[str(C)] = head_metrics(list(y), proba, classes)["macro_f1"]
    best = max(config.c_grid, key=lambda C: scores[str(C)])
    return best, scores


def fit_on_dev(
    X: np.ndarray, y: np.ndarray, X_dev: np.ndarray, y_dev: np.ndarray, config: HeadConfig
) -> tuple[Any, dict[str, Any]]:
    """The C with the best macro-F1 on the dev set, refit on all of ``X``, and one
    temperature fitted on the dev set's logits."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    classes = list(np.unique(y))
    fitted = {C: make_classifier(C).fit(X, y) for C in config.c_grid}
    scores = {str(C): head_metrics(list(y_dev), clf.predict_proba(X_dev), classes)["macro_f1"]
              for C, clf in fitted.items()}
    best = max(config.c_grid, key=lambda C: scores[str(C)])
    head = CalibratedClassifierCV(FrozenEstimator(fitted[best]), method="temperature",
                                  cv=config.cv_folds)
    head.fit(X_dev, y_dev)
    return head, {"C": best, "selected_on": "dev", "macro_f1_by_C_on_dev": scores,
                  "dev": head_metrics(list(y_dev), head.predict_proba(X_dev), classes)}


def fit_heads(
    dataset: Dataset, encoder: Encoder, config: HeadConfig | None = None,
    cache_dir: Path | None = None, progress: Progress | None = None,
    dev: Dataset | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Fitted heads, the same heads combined with their n-gram models (``lexical_heads``
    only; as a model applies them), and their selection metrics: story-grouped
    cross-validation, or the ``dev`` set when ``config.selection`` is "dev"."""
    config = config or HeadConfig()
    folds = config.cv_folds
    cache = FeatureCache(encoder, cache_dir)
    heads: dict[str, Any] = {}
    combined: dict[str, CombinedHead] = {}
    metrics: dict[str, Any] = {}
    for head in dataset.heads():
        rows = dataset.for_head(head)
        X = head_matrix(cache, rows, head, progress)
        y = np.array([r.labels[head] for r in rows])
        dev_rows = dev.for_head(head) if dev is not None else []
        dev_y = [r.labels[head] for r in dev_rows]
        # the temperature is fitted on folds of the dev set: every class needs a few rows
        # in each, else (a small subset, say) the heads are chosen by cross-validation
        enough = bool(dev_y) and set(dev_y) == set(y) and min(
            dev_y.count(label) for label in set(y)) >= config.cv_folds
        if config.selection == "dev" and enough:
            X_dev = head_matrix(cache, dev_rows, head, progress)
            heads[head], metrics[head] = fit_on_dev(
                X, y, X_dev, np.array([r.labels[head] for r in dev_rows]), config)
            continue
        groups = np.array([story_key(r) for r in rows])
        C, grid = choose_c(X, y, groups, config)
        proba = cross_validated(make_head(C), X, y, groups, folds)
        heads[head] = make_head(C).fit(X, y)
        metrics[head] = {"C": C, "macro_f1_by_C": grid}
        if head in config.lexical_heads:
            texts = np.array([r.text for r in rows], dtype=object)
            metrics[head]["embedding_only_cv_by_story"] = head_metrics(
                list(y), proba, list(np.unique(y)))
            lexical_proba = cross_validated(make_lexical(), texts, y, groups, folds)
            weight = config.lexical_weight
            mixed = mix(proba, lexical_proba, weight)
            beta = fit_temperature(mixed, y)
            proba = sharpen(mixed, beta)
            combined[head] = CombinedHead(heads[head], make_lexical().fit(texts, y), weight, beta)
        metrics[head]["cv_by_story"] = head_metrics(list(y), proba, list(np.unique(y)))
    return heads, combined, metrics


def serving_heads(
    heads: dict[str, Any], combined: dict[str, CombinedHead]
) -> dict[str, Head]:
    """The fitted estimators as the model will serve them (arrays), so every score
    training reports runs the serving arithmetic."""
    arrays = {head: LinearHead.from_estimator(estimator) for head, estimator in heads.items()}
    served: dict[str, Head] = dict(arrays)
    for head, fitted in combined.items():
        served[head] = CombinedHead(arrays[head], LexicalHead.from_pipeline(fitted.lexical),
                                    fitted.weight, fitted.beta)
    return served


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> float:
    """The beta minimising the log loss of ``sharpen(proba, beta)`` (classes sorted)."""
    from scipy.optimize import minimize_scalar

    index = np.searchsorted(np.unique(y), y)

    def loss(log_beta: float) -> float:
        sharpened = sharpen(proba, float(np.exp(log_beta)))
        return float(-np.mean(np.log(np.clip(sharpened[np.arange(len(y)), index], 1e-12, None))))

    return round(float(np.exp(minimize_scalar(loss, bounds=(-3.0, 3.0)).x)), 6)


def build_card(
    dataset: Dataset, encoder: Encoder, metrics: dict[str, Any], model_id: str,
    encoder_name: str | None = None,
) -> ModelCard:
    created = utc_now()
    return ModelCard(
        model_id=model_id,
        version=created.replace(":", "").replace("-", "")[:15],
        created_at=created,
        labels={head: list(LABELS[head]) for head in dataset.heads()},
        encoder=EncoderInfo(
            name=encoder_name or encoder.name,
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


def _log_progress(log: Callable[[str], None]) -> Progress:
    """Plain progress lines (every tenth of the way), readable in a log file or a pipe."""
    shown: dict[str, int] = {}

    def progress(label: str, done: int, total: int) -> None:
        tenth = 10 * done // max(total, 1)
        if shown.get(label) != tenth:
            shown[label] = tenth
            log(f"  {label}: {done}/{total}")

    return progress


def fit_model(
    dataset: Dataset,
    config: TrainingConfig,
    tuned: Path | None,
    real: list[RealSentence],
    log: Callable[[str], None],
    extra_files: dict[str, Path],
) -> ModelCard:
    """Fit the heads on ``tuned`` (or the configured encoder when frozen), score, write.

    Scoring happens in memory before the single atomic write, so the card is complete
    and a failure leaves the previous model in place.
    """
    from model.encoder import TorchEncoder
    from training.evaluate import score_model

    encoder = TorchEncoder(str(tuned) if tuned else config.encoder)
    log(f"fitting heads on {encoder.name}")
    from training.annotations import of_split, real_rows

    dev = Dataset(real_rows(of_split(real, "dev")), [])
    if config.heads.selection == "dev" and not dev.rows:
        log("heads: no dev split (../shared/datasets absent?): choosing by cross-validation")
    heads, combined, metrics = fit_heads(
        dataset, encoder, config.heads, config.cache_dir, _log_progress(log), dev)
    card = build_card(dataset, encoder, metrics, config.model_id,
                      "encoder" if tuned else config.encoder)
    card = card.model_copy(update={
        "lexical": {
            head: {"file": lexical_file(head), "weight": c.weight, "beta": c.beta,
                   "model": "TF-IDF word 1-2-grams (min_df 2, sublinear tf) + balanced "
                            "logistic regression; probabilities averaged with the embedding "
                            "head's"}
            for head, c in combined.items()
        },
        "training": config.recorded(),
    })
    cache = FeatureCache(encoder, config.cache_dir)
    model = Presslens(encoder, serving_heads(heads, combined), card, cache.features)
    log("scoring held-out data")
    card = card.model_copy(update={"metrics": metrics | score_model(model, config, real)})
    with tempfile.TemporaryDirectory(prefix="presslens-extra-") as work:
        for name, source in extra_files.items():
            shutil.copytree(source, Path(work) / name)
        write_model(config.out, heads, card, extra=Path(work) if extra_files else None,
                    lexical={head: c.lexical for head, c in combined.items()})
    return card


def train(
    paths: list[Path],
    out: Path,
    encoder_name: str = DEFAULT_ENCODER,
    model_id: str = "presslens-custom",
    cache_dir: Path | None = None,
) -> ModelCard:
    """The frozen-encoder fast path with no proxies or export: for tests and quick fits."""
    from training.trainer import Trainer, TrainingConfig

    config = TrainingConfig(data=paths, out=out, encoder=encoder_name, model_id=model_id,
                            finetune=None, proxies=False, export=False,
                            **({"cache_dir": cache_dir} if cache_dir else {}))
    return Trainer(config, log=lambda _message: None).run()
