"""Scores on the real, human-annotated proxies in ../shared/datasets, when present.

None of these sets uses presslens's labels exactly (see its README), so each is read as
a proxy: stance macro-F1 on NewsMTSC with targets, how well P(advocacy) ranks subjective
sentences above objective ones, and how well P(official_claim) ranks attributed ones.
A user's clone has no such folder: everything here then returns None and says so.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from model.features import Unit
from model.labels import LABELS, STANCE
from model.predict import Presslens
from model.settings import core_settings
from training.metrics import head_metrics

STANCE_SETS = {"newsmtsc_rw_dev": "newsmtsc_rw_dev.csv", "newsmtsc_mt_dev": "newsmtsc_mt_dev.csv"}
SCORE_SETS = {
    # name: (file, gold column, head, label whose probability is the score)
    "subjectivity_dev": ("subjectivity_dev.csv", "subjective", "framing", "advocacy"),
    "polnear_attribution_dev": ("polnear_attribution_dev.csv", "attributed", "framing",
                                "official_claim"),
}


@dataclass(frozen=True, slots=True)
class ScoreProxy:
    """A binary gold label and the model's probability for one label, per sentence."""

    texts: list[str]
    gold: np.ndarray
    score: np.ndarray
    label: str

    def auc(self) -> float:
        return round(float(roc_auc_score(self.gold, self.score)), 4)

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        fpr, tpr, _ = roc_curve(self.gold, self.score)
        return fpr, tpr


def datasets_dir() -> Path:
    """``PRESSLENS_DATASETS``, else ``../shared/datasets`` beside the repository."""
    return core_settings().datasets


def available(directory: Path | None = None) -> bool:
    directory = directory or datasets_dir()
    return directory.is_dir() and any(directory.glob("*.csv"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def stance_proxy(model: Presslens, path: Path) -> dict[str, Any]:
    rows = _rows(path)
    units = [Unit(r["text"], r["target"]) for r in rows]
    predictions = model.predict_units(units, heads=[STANCE])
    classes = list(LABELS[STANCE])
    proba = np.array([[p[STANCE].scores[c] for c in classes] for p in predictions])
    return head_metrics([r["stance"] for r in rows], proba, classes)


def score_proxy(model: Presslens, path: Path, gold: str, head: str, label: str) -> ScoreProxy:
    rows = _rows(path)
    predictions = model.predict_units([Unit(r["text"]) for r in rows], heads=[head])
    return ScoreProxy(
        [r["text"] for r in rows],
        np.array([int(r[gold]) for r in rows]),
        np.array([p[head].scores[label] for p in predictions]),
        label,
    )


def proxy_results(
    model: Presslens, directory: Path | None = None
) -> tuple[dict[str, Any], dict[str, ScoreProxy]] | None:
    """(stance metrics per NewsMTSC set, score proxies per binary set), or None if absent."""
    directory = directory or datasets_dir()
    if not available(directory):
        return None
    stance = {
        name: stance_proxy(model, directory / file)
        for name, file in STANCE_SETS.items()
        if (directory / file).is_file() and STANCE in model.heads
    }
    scores = {
        name: score_proxy(model, directory / file, gold, head, label)
        for name, (file, gold, head, label) in SCORE_SETS.items()
        if (directory / file).is_file() and head in model.heads
    }
    return stance, scores


def proxy_summary(model: Presslens, directory: Path | None = None) -> dict[str, Any]:
    """The headline proxy figures for the model card."""
    directory = directory or datasets_dir()
    results = proxy_results(model, directory)
    if results is None:
        return {"skipped": f"no datasets at {directory}"}
    stance, scores = results
    summary: dict[str, Any] = {f"{n}_stance_macro_f1": m["macro_f1"] for n, m in stance.items()}
    summary |= {f"{n}_auc_p_{p.label}": p.auc() for n, p in scores.items()}
    return summary
