"""``presslens serve``: settings from PRESSLENS_* and options, a clear error for a bad model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from presslens.cli import app


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run",
                        lambda application, **kw: calls.append(kw | {"app": application}))
    return calls


def test_serve_reads_the_environment_and_options(
    uvicorn_calls: list[dict[str, Any]], model_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PRESSLENS_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("PRESSLENS_PORT", "9011")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["serve", "--port", "9012", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    first, second = uvicorn_calls
    assert (first["host"], first["port"]) == ("127.0.0.1", 9011)
    assert (second["host"], second["port"]) == ("0.0.0.0", 9012)
    assert second["app"].state.settings.model_dir == model_dir
    assert first["timeout_graceful_shutdown"] < 10  # inside Docker's stop grace period


def test_serve_refuses_a_missing_model(uvicorn_calls: list[dict[str, Any]], tmp_path: Path):
    result = CliRunner().invoke(app, ["serve", "--model", str(tmp_path)])
    assert result.exit_code == 2
    assert "card.json is missing" in result.output
    assert uvicorn_calls == []


def test_serve_refuses_bad_settings(uvicorn_calls, model_dir: Path, monkeypatch):
    monkeypatch.setenv("PRESSLENS_MAX_CHARS", "lots")
    result = CliRunner().invoke(app, ["serve", "--model", str(model_dir)])
    assert result.exit_code == 2
    assert "max_chars" in result.output
