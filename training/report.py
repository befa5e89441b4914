"""The evaluation report: how well a model does, how sure we can be, and where it errs.

One run scores the model and a TF-IDF + logistic-regression baseline on the same rows, so
the embedding model's margin is measured, not remembered. Every headline figure carries a
bootstrap 95 % interval; the intervals resample rows, so they show sampling noise only (the
per-story figures show how much the score moves between stories). Proxy sets from
``../shared/datasets`` are scored when present; their sentences never enter the report,
only figures, because those sets must not be copied into the project.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import bootstrap, mannwhitneyu
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline

from model.card import utc_now
from model.labels import LABELS
from model.predict import Presslens
from training import plots
from training.cache import DEFAULT_CACHE_DIR, FeatureCache
from training.dataset import Dataset, Row, load
from training.evaluate import head_predictions
from training.metrics import head_metrics
from training.proxies import DATASETS_DIR, ScoreProxy, proxy_results

DEFAULT_BASELINE_TRAIN = Path(__file__).resolve().parent / "data" / "train.csv"
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"
GROUP_COLUMNS = ("story", "topic", "register")
BASELINE_C = (1.0, 3.0, 10.0, 30.0)  # saga stops converging on stance above 30
RELIABILITY_BINS = 15  # the bins of metrics.expected_calibration_error
EXAMPLES = 10


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


# --- intervals ---------------------------------------------------------------------------

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


def _pair(low: float, high: float) -> list[float]:
    return [round(float(low), 4), round(float(high), 4)]


def with_intervals(metrics: dict[str, Any], low: np.ndarray, high: np.ndarray) -> dict[str, Any]:
    """``head_metrics``'s dict plus ``ci``: [low, high] for every score it reports."""
    classes = metrics["labels"]
    k = len(classes)
    per_class = {
        label: {
            name: _pair(low[2 + block * k + i], high[2 + block * k + i])
            for block, name in enumerate(("precision", "recall", "f1"))
        }
        for i, label in enumerate(classes)
    }
    ci = {"accuracy": _pair(low[0], high[0]), "macro_f1": _pair(low[1], high[1]),
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
    return _pair(result.confidence_interval.low, result.confidence_interval.high)


# --- baseline ----------------------------------------------------------------------------

def _group(row: Row) -> str:
    return row.story or hashlib.sha1(row.text.encode()).hexdigest()


def fit_baseline(rows: list[Row], head: str) -> tuple[Pipeline, dict[str, Any]]:
    """TF-IDF word 1-2-grams into a balanced logistic regression, C chosen like the model's.

    The baseline sees the sentence only (no target). Its C is picked by macro-F1 in
    cross-validation grouped by story, as the model's heads are, so it is a fair yardstick;
    the vocabulary is fitted once on all its training rows (labels never enter it).
    """
    texts = [r.text for r in rows]
    labels = [r.labels[head] for r in rows]
    groups = np.array([_group(r) for r in rows])
    splits = list(GroupKFold(n_splits=min(5, len(set(groups)))).split(texts, labels, groups))
    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
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
    proba = pipeline.predict_proba([r.text for r in rows])
    order = [list(pipeline.classes_).index(c) for c in classes]
    return proba[:, order]


# --- per head ----------------------------------------------------------------------------

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


def _read_records(rows: list[Row]) -> dict[tuple[str, int], dict[str, str]]:
    """Each row's full CSV record, found by file and line as ``dataset.load`` numbers them."""
    records: dict[tuple[str, int], dict[str, str]] = {}
    for file in dict.fromkeys(r.file for r in rows):
        content = Path(file).read_text(encoding="utf-8")
        reader = csv.DictReader(content.splitlines(keepends=True))
        reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
        for record in reader:
            records[(file, reader.line_num)] = record
    return records


def group_values(
    rows: list[Row], records: dict[tuple[str, int], dict[str, str]]
) -> dict[str, list[str | None]]:
    """Per grouping column the data has: each row's value; a column that splits the rows
    exactly as an earlier one does (each story one topic, say) is left out as redundant."""
    found: dict[str, list[str | None]] = {}
    for column in GROUP_COLUMNS:
        values = [(records.get((r.file, r.line), {}).get(column) or "").strip() or None
                  for r in rows]
        named = {v for v in values if v}
        if len(named) < 2:
            continue
        partition = {frozenset(i for i, v in enumerate(values) if v == name) for name in named}
        if any(partition == _partition(other) for other in found.values()):
            continue
        found[column] = values
    return found


def _partition(values: list[str | None]) -> set[frozenset[int]]:
    return {frozenset(i for i, v in enumerate(values) if v == name) for name in set(values) if name}


def group_scores(
    values: list[str | None], y_true: np.ndarray, y_model: np.ndarray, y_base: np.ndarray | None,
    k: int,
) -> list[dict[str, Any]]:
    """Accuracy and macro-F1 per group, model and baseline, largest group first."""
    out = []
    for name in sorted({v for v in values if v}):
        inside = np.array([v == name for v in values])
        model_scores = scores_from_confusion(_confusion(y_true[inside], y_model[inside], k))
        entry = {"name": name, "n": int(inside.sum()),
                 "accuracy": round(float(model_scores[0]), 4),
                 "macro_f1": round(float(model_scores[1]), 4)}
        if y_base is not None:
            base = scores_from_confusion(_confusion(y_true[inside], y_base[inside], k))
            entry |= {"baseline_accuracy": round(float(base[0]), 4),
                      "baseline_macro_f1": round(float(base[1]), 4)}
        out.append(entry)
    return sorted(out, key=lambda g: (-g["n"], g["name"]))


def _confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k).astype(float)


@dataclass(frozen=True, slots=True)
class HeadInputs:
    """One head's evaluation rows with the model's and the baseline's probabilities."""

    head: str
    rows: list[Row]
    proba: np.ndarray
    baseline: np.ndarray | None
    groups: dict[str, list[str | None]]


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
                   "ci": _pair(margin_low[0, i], margin_high[0, i])}
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


# --- proxies -----------------------------------------------------------------------------

def proxy_scores(
    views: dict[str, Presslens], datasets_dir: Path
) -> tuple[dict[str, Any], dict[str, ScoreProxy]] | None:
    """``proxy_results`` once per single-head view: each set is scored by the one head it
    needs, so no sentence is embedded for a head whose answer is thrown away."""
    stance: dict[str, Any] = {}
    scores: dict[str, ScoreProxy] = {}
    for view in views.values():
        results = proxy_results(view, datasets_dir)
        if results is None:
            return None
        stance |= results[0]
        scores |= results[1]
    return stance, scores


def proxy_section(
    views: dict[str, Presslens], datasets_dir: Path, out_dir: Path, settings: Bootstrap
) -> dict[str, Any]:
    """Stance on NewsMTSC and ROC curves on the binary sets; figures only, no sentences."""
    results = proxy_scores(views, datasets_dir)
    if results is None:
        return {"skipped": f"no proxy datasets at {_shown(datasets_dir)}: this section needs "
                           "../shared/datasets (or PRESSLENS_DATASETS, or --datasets)"}
    stance, scores = results
    section: dict[str, Any] = {"dir": _shown(datasets_dir), "stance": {}, "scores": {}, "plots": {}}
    for name, metrics in stance.items():
        y_true, y_pred = _pairs_from_confusion(np.array(metrics["confusion"]))
        k = len(metrics["labels"])
        low, high, _, _ = intervals(y_true, [y_pred], k, settings)
        section["stance"][name] = with_intervals(metrics, low[0], high[0])
    curves = []
    for name, proxy in scores.items():
        auc = proxy.auc()
        fpr, tpr = proxy.curve()
        section["scores"][name] = {"label": proxy.label, "n": len(proxy.gold),
                                   "positives": int(proxy.gold.sum()), "auc": auc,
                                   "auc_ci": auc_interval(proxy, settings)}
        curves.append(plots.Curve(f"{name}: P({proxy.label})", fpr, tpr, auc))
    if curves:
        section["plots"]["roc"] = plots.roc_curves(curves, "Proxy ROC curves",
                                                   out_dir / "roc_proxies.png")
    return section


def _pairs_from_confusion(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gold, predicted) index pairs with the counts of a confusion matrix: all a row
    bootstrap of confusion-derived scores needs."""
    gold, predicted = np.nonzero(confusion)
    counts = confusion[gold, predicted]
    return np.repeat(gold, counts), np.repeat(predicted, counts)


# --- the whole report --------------------------------------------------------------------

def _shown(path: Path) -> str:
    """A path as the user would type it from here: relative to the working directory when
    it is inside it or beside it (``../shared/datasets``), else absolute."""
    relative = os.path.relpath(path.resolve())
    if not relative.startswith(f"..{os.sep}.."):
        return relative
    if path.resolve().is_relative_to(Path.home()):
        return f"~/{path.resolve().relative_to(Path.home())}"
    return str(path.resolve())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def warnings_for(model: Presslens, dataset: Dataset, baseline_data: Dataset) -> list[str]:
    """Leaks that would make the figures flatter than the truth."""
    found = []
    trained_on = {f.sha256: f.path for f in model.card.training_files}
    for file in dataset.files:
        if file.sha256 in trained_on:
            found.append(f"{file.path} is one of the model's training files "
                         f"({trained_on[file.sha256]}): these are not held-out scores")
    seen = {_normalise(r.text) for r in baseline_data.rows}
    overlap = sum(_normalise(r.text) in seen for r in dataset.rows)
    if overlap:
        found.append(f"{overlap} of {len(dataset.rows)} evaluation rows also appear in the "
                     "baseline's training data")
    return found


def head_views(model: Presslens, cache_dir: Path | None) -> dict[str, Presslens]:
    """One single-head model per head, sharing the encoder (and the feature cache, keyed by
    encoder weights and feature code, so a training run's embeddings are reused here)."""
    featurize = FeatureCache(model.encoder, cache_dir).features if cache_dir else None
    return {head: Presslens(model.encoder, {head: estimator}, model.card, featurize)
            for head, estimator in model.heads.items()}


def build_report(
    model: Presslens,
    paths: list[Path],
    out_dir: Path,
    baseline_train: Path = DEFAULT_BASELINE_TRAIN,
    datasets_dir: Path = DATASETS_DIR,
    settings: Bootstrap | None = None,
    model_dir: Path | None = None,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
) -> dict[str, Any]:
    """Score, draw and write ``metrics.json`` and ``report.html`` into ``out_dir``.

    Raises ``DataError`` (naming file, line and column) before any work if a CSV is bad.
    ``cache_dir`` None embeds everything afresh instead of using the feature cache.
    """
    started = time.perf_counter()
    settings = settings or Bootstrap()
    dataset = load(paths, for_training=False)
    baseline_data = load([baseline_train], for_training=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = _read_records(dataset.rows)
    views = head_views(model, cache_dir)
    heads: dict[str, Any] = {}
    baseline_info: dict[str, Any] = {}
    for head in (h for h in dataset.heads() if h in model.heads):
        rows = dataset.for_head(head)
        train_rows = baseline_data.for_head(head)
        baseline = None
        if {r.labels[head] for r in train_rows} >= set(LABELS[head]):
            pipeline, baseline_info[head] = fit_baseline(train_rows, head)
            baseline = baseline_predictions(pipeline, rows, LABELS[head])
        inputs = HeadInputs(head, rows, head_predictions(views[head], rows, head), baseline,
                            group_values(rows, records))
        heads[head] = head_section(inputs, out_dir, settings)
    report: dict[str, Any] = {
        "created_at": utc_now(),
        "model": {"model_id": model.card.model_id, "version": model.card.version,
                  "encoder": model.card.encoder.name,
                  "dir": _shown(model_dir) if model_dir else "model/default"},
        "data": [{"path": _shown(Path(f.path)), "sha256": f.sha256, "rows": f.rows}
                 for f in dataset.files],
        "bootstrap": settings.describe(),
        "feature_cache": _shown(cache_dir) if cache_dir else None,
        "baseline": {
            "description": "TF-IDF word 1-2-grams + balanced logistic regression on the "
                           "sentence alone; C by story-grouped cross-validated macro-F1",
            "train": {"path": _shown(baseline_train), "sha256": _sha256(baseline_train)},
            "heads": baseline_info,
        },
        "warnings": warnings_for(model, dataset, baseline_data),
        "heads": heads,
        "proxies": proxy_section(views, datasets_dir, out_dir, settings),
    }
    if heads:
        report["plots"] = {"headline": _headline_plot(heads, out_dir)}
    report["elapsed_s"] = round(time.perf_counter() - started, 1)
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    render_html(report, out_dir / "report.html")
    return report


def _headline_plot(heads: dict[str, Any], out_dir: Path) -> str:
    def interval(metrics: dict[str, Any]) -> plots.Interval:
        return plots.Interval(metrics["macro_f1"], *metrics["ci"]["macro_f1"])

    return plots.headline(
        list(heads), [interval(h["model"]) for h in heads.values()],
        [interval(h["baseline"]) if "baseline" in h else None for h in heads.values()],
        out_dir / "headline.png",
    )


def render_html(report: dict[str, Any], path: Path) -> Path:
    """Fill the Jinja2 template; images are referenced by file name, beside the HTML."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    path.write_text(environment.get_template(TEMPLATE).render(report=report), encoding="utf-8")
    return path
