"""Shared fixtures: the seed articles, their hand labels, and small CSV builders."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are read once per process; a test that sets a variable sees it anyway."""
    from model.settings import core_settings

    core_settings.cache_clear()
    yield
    core_settings.cache_clear()


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in SEEDS}


@pytest.fixture(scope="session")
def seed_framing() -> dict[str, list[list[str]]]:
    labels = json.loads((FIXTURES / "seed_framing.json").read_text(encoding="utf-8"))
    labels.pop("_comment")
    return labels


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (dicts, or raw text with ``raw=``) to a CSV file under tmp_path."""
    import csv

    def write(rows: list[dict[str, str]] | None = None, name: str = "data.csv",
              raw: bytes | None = None) -> Path:
        path = tmp_path / name
        if raw is not None:
            path.write_bytes(raw)
            return path
        assert rows
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return path

    return write
