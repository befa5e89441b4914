"""The shipped default model, loaded once per session on the reference backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.predict import DEFAULT_MODEL_DIR, Presslens


@pytest.fixture(scope="session")
def shipped_model_dir() -> Path:
    return DEFAULT_MODEL_DIR


@pytest.fixture(scope="session")
def shipped_model() -> Presslens:
    return Presslens.load(None, backend="torch")
