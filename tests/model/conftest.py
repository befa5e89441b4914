"""The shipped default model, loaded once per session on the reference backend."""

from __future__ import annotations

import pytest

from model.predict import Presslens


@pytest.fixture(scope="session")
def shipped_model() -> Presslens:
    return Presslens.load(None, backend="torch")
