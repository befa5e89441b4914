"""API keys on the classify routes; the admin token and atomic reload."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from model.predict import Presslens
from service.app import create_app
from service.settings import Settings

TEXT = {"text": "The council approved the budget on Monday."}


@pytest.fixture(scope="module")
def gate(make_gate: Callable[[], Any]) -> Any:
    return make_gate()


@pytest.fixture(scope="module")
def keyed(make_client: Callable[..., TestClient], gate: Any) -> TestClient:
    return make_client(gate, api_keys="alpha, beta")


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "gamma"}, {"X-API-Key": ""}])
def test_missing_or_wrong_key_is_401_without_model_time(keyed: TestClient, gate: Any, headers):
    calls = len(gate.calls)
    for path, body in [("/v1/classify", TEXT), ("/v1/classify/batch", {"documents": [TEXT]})]:
        response = keyed.post(path, json=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] in {"missing_api_key", "invalid_api_key"}
    malformed = keyed.post("/v1/classify", content=b"{", headers=headers)
    assert malformed.status_code == 401  # refused before the body is read
    assert len(gate.calls) == calls


@pytest.mark.parametrize("key", ["alpha", "beta"])
def test_configured_keys_are_accepted(keyed: TestClient, key: str):
    assert keyed.post("/v1/classify", json=TEXT, headers={"X-API-Key": key}).status_code == 200


def test_keys_guard_only_the_classify_routes(keyed: TestClient):
    for path in ("/healthz", "/readyz", "/v1/model", "/"):
        assert keyed.get(path).status_code == 200


def test_keys_are_off_by_default(client: TestClient):
    assert client.post("/v1/classify", json=TEXT).status_code == 200


def test_settings_read_keys_and_token_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PRESSLENS_API_KEYS", "k-one-1f, k-two-2e,,")
    monkeypatch.setenv("PRESSLENS_ADMIN_TOKEN", " ")
    monkeypatch.setenv("PRESSLENS_PORT", "9123")
    settings = Settings()
    assert [k.get_secret_value() for k in settings.api_keys] == ["k-one-1f", "k-two-2e"]
    assert settings.admin_token is None
    assert (settings.host, settings.port) == ("127.0.0.1", 9123)
    assert "k-one-1f" not in repr(settings)


# --- admin reload ---------------------------------------------------------------------------


def test_reload_is_disabled_without_a_token(client: TestClient):
    response = client.post("/v1/admin/reload", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 404
    assert "PRESSLENS_ADMIN_TOKEN" in response.json()["detail"]


@pytest.fixture
def disk_model(tmp_path: Path, model_dir: Path) -> Path:
    """A copy of the served model directory that tests may rewrite."""
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    return copy


def _set_version(model_dir: Path, version: str) -> None:
    card = model_dir / "card.json"
    data = json.loads(card.read_text(encoding="utf-8"))
    data["version"] = version
    card.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def admin(disk_model: Path, model: Presslens, backend: str):
    """An app serving the session model first, whose reloads really load ``disk_model``."""
    loads: list[int] = []

    def loader(settings: Settings) -> Presslens:
        loads.append(1)
        return model if len(loads) == 1 else Presslens.load(settings.model_dir, backend)

    app = create_app(Settings(model_dir=disk_model, admin_token="s3cret"), loader=loader)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


AUTH = {"Authorization": "Bearer s3cret"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "Basic czNjcmV0"}])
def test_reload_needs_the_bearer_token(admin: TestClient, headers):
    response = admin.post("/v1/admin/reload", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_reload_swaps_in_the_model_on_disk(admin: TestClient, disk_model: Path, model: Presslens):
    _set_version(disk_model, "reloaded-1")
    response = admin.post("/v1/admin/reload", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["previous"]["version"] == model.card.version
    assert response.json()["model"]["version"] == "reloaded-1"
    assert admin.get("/v1/model").json()["version"] == "reloaded-1"
    assert admin.post("/v1/classify", json=TEXT).json()["model"]["version"] == "reloaded-1"
    assert 'version="reloaded-1"' in admin.get("/metrics").text


def test_failed_reload_keeps_the_old_model(admin: TestClient, disk_model: Path, model: Presslens):
    (disk_model / "card.json").write_text("{not json", encoding="utf-8")
    response = admin.post("/v1/admin/reload", headers=AUTH)
    assert response.status_code == 409
    assert response.json()["error"] == "reload_failed"
    assert "card.json" in response.json()["detail"]
    assert admin.get("/v1/model").json()["version"] == model.card.version
    assert admin.post("/v1/classify", json=TEXT).status_code == 200


def test_requests_in_flight_finish_on_the_old_model(model: Presslens, make_gate):
    """A request already labelling when the swap happens is answered by (and as) the old model."""
    old = make_gate()
    new = Presslens(model.encoder, model.heads, model.card.model_copy(update={"version": "new"}))
    models = iter([old, new])
    app = create_app(Settings(admin_token="s3cret"), loader=lambda _: next(models))
    with TestClient(app, raise_server_exceptions=False) as client:
        old.close()
        answers: list[dict] = []
        worker = threading.Thread(
            target=lambda: answers.append(client.post("/v1/classify", json=TEXT).json()))
        worker.start()
        assert old.entered.wait(10)
        reloaded = client.post("/v1/admin/reload", headers=AUTH)
        assert reloaded.json()["model"]["version"] == "new"
        old.open()
        worker.join(10)
        assert answers[0]["model"]["version"] == model.card.version
        assert client.post("/v1/classify", json=TEXT).json()["model"]["version"] == "new"
