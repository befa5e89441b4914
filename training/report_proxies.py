"""The report's proxy section: stance on NewsMTSC and ROC curves on the binary sets.

Sets from ``../shared/datasets`` are scored when present; their sentences never enter the
report, only figures, because those sets must not be copied into the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model.predict import Presslens
from training import plots
from training.proxies import ScoreProxy, proxy_results
from training.report_intervals import (
    Bootstrap,
    auc_interval,
    intervals,
    pairs_from_confusion,
    with_intervals,
)
from training.report_paths import shown


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
        return {"skipped": f"no proxy datasets at {shown(datasets_dir)}: this section needs "
                           "../shared/datasets (or PRESSLENS_DATASETS, or --datasets)"}
    stance, scores = results
    section: dict[str, Any] = {"dir": shown(datasets_dir), "stance": {}, "scores": {}, "plots": {}}
    for name, metrics in stance.items():
        y_true, y_pred = pairs_from_confusion(np.array(metrics["confusion"]))
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
