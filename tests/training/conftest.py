"""A small model trained once per session from a slice of the real corpus."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "training" / "data" / "train.csv"


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve rows per framing label and per stance label, taken from the corpus."""
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(7).shuffle(rows)
    picked: list[dict[str, str]] = []
    for head, label in [(h, lab) for h in ("framing", "stance") for lab in _labels(rows, h)]:
        picked += [r for r in rows if r[head] == label and r not in picked][:12]
    path = tmp_path_factory.mktemp("data") / "small.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    return path


def _labels(rows: list[dict[str, str]], head: str) -> list[str]:
    return sorted({r[head] for r in rows})


@pytest.fixture(scope="session")
def train_small(tmp_path_factory: pytest.TempPathFactory, small_csv: Path) -> Callable[..., Path]:
    """Train into a directory; the feature cache is shared so later fits skip embedding."""
    from training.fit import train

    cache = tmp_path_factory.mktemp("cache")

    def run(out: Path, data: list[Path] | None = None) -> Path:
        train(data or [small_csv], out, cache_dir=cache)
        return out

    return run


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory: pytest.TempPathFactory, train_small) -> Path:
    return train_small(tmp_path_factory.mktemp("models") / "small")
