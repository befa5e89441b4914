"""The evaluation report: how well a model does, how sure we can be, and where it errs.

One run scores the model and a TF-IDF + logistic-regression baseline on the same rows, so
the embedding model's margin is measured, not remembered. Every headline figure carries a
bootstrap 95 % interval; the intervals resample rows, so they show sampling noise only (the
per-story figures show how much the score moves between stories). Proxy sets from
``../shared/datasets`` are scored when present; their sentences never enter the report,
only figures, because those sets must not be copied into the project.

This module assembles the report; its sections live beside it: ``report_intervals``,
``report_baseline``, ``report_groups``, ``report_heads`` and ``report_proxies``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from model.card import utc_now
from model.encoder import file_sha256
from model.labels import LABELS
from model.predict import Presslens
from training import plots
from training.cache import FeatureCache
from training.dataset import Dataset, load, text_key
from training.evaluate import head_predictions
from training.report_baseline import DESCRIPTION, baseline_predictions, fit_baseline
from training.report_groups import group_values, read_records
from training.report_heads import HeadInputs, head_section
from training.report_intervals import Bootstrap
from training.report_paths import shown
from training.report_proxies import proxy_section

DEFAULT_BASELINE_TRAIN = Path(__file__).resolve().parent / "data" / "train.csv"
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"


def warnings_for(model: Presslens, dataset: Dataset, baseline_data: Dataset) -> list[str]:
    """Leaks that would make the figures flatter than the truth."""
    found = []
    trained_on = {f.sha256: f.path for f in model.card.training_files}
    for file in dataset.files:
        if file.sha256 in trained_on:
            found.append(f"{file.path} is one of the model's training files "
                         f"({trained_on[file.sha256]}): these are not held-out scores")
    seen = {text_key(r.text) for r in baseline_data.rows}
    overlap = sum(text_key(r.text) in seen for r in dataset.rows)
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
    datasets_dir: Path | None = None,
    settings: Bootstrap | None = None,
    model_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Score, draw and write ``metrics.json`` and ``report.html`` into ``out_dir``.

    Raises ``DataError`` (naming file, line and column) before any work if a CSV is bad.
    ``cache_dir`` None embeds everything afresh instead of using the feature cache.
    """
    from training.proxies import datasets_dir as default_datasets

    datasets_dir = datasets_dir or default_datasets()
    started = time.perf_counter()
    settings = settings or Bootstrap()
    dataset = load(paths, for_training=False)
    baseline_data = load([baseline_train], for_training=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = read_records(dataset.rows)
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
                  "dir": shown(model_dir) if model_dir else "model/default"},
        "data": [{"path": shown(Path(f.path)), "sha256": f.sha256, "rows": f.rows}
                 for f in dataset.files],
        "bootstrap": settings.describe(),
        "feature_cache": shown(cache_dir) if cache_dir else None,
        "baseline": {
            "description": DESCRIPTION,
            "train": {"path": shown(baseline_train), "sha256": file_sha256(baseline_train)},
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
