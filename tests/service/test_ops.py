"""Health, readiness, metrics, the model card, the page and unknown routes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from model.predict import Presslens
from model.segment import split
from service.app import WARM_UP
from service.settings import Settings


def test_healthz(client: TestClient):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_probes_the_model(client: TestClient, model: Presslens):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["model"] == {"id": model.card.model_id, "version": model.card.version}
    assert response.json()["probe"] == "passed"


def test_readyz_answers_at_once_while_the_model_is_busy(
    make_client: Callable[..., TestClient], make_gate, wait_until
):
    """Its probe used to queue behind user work, so a busy healthy service read 503 after
    10 s. Now it reports the queue and probes only an idle model."""
    gate = make_gate()
    client = make_client(gate)
    gate.close()
    text = {"text": "One sentence. And a second one."}
    threads = [threading.Thread(target=lambda: client.post("/v1/classify", json=text))
               for _ in range(2)]
    try:
        threads[0].start()
        assert gate.entered.wait(10)  # the worker is labelling; the next request waits
        threads[1].start()
        wait_until(lambda: client.app.state.batcher.depth == 1, "a request queued")
        calls = len(gate.calls)
        response = client.get("/readyz")
        assert response.status_code == 200
        body = response.json()
        assert body["probe"] == "skipped_busy"
        assert body["queue"] == {"documents": 1, "sentences": 2, "busy": True}
        assert len(gate.calls) == calls
    finally:
        gate.open()
        for thread in threads:
            thread.join(30)
    wait_until(lambda: client.app.state.batcher.idle, "the model idle")
    idle = client.get("/readyz").json()
    assert idle["probe"] == "passed"
    assert idle["queue"] == {"documents": 0, "sentences": 0, "busy": False}


def test_readyz_names_what_timed_out(
    make_client: Callable[..., TestClient], make_gate, monkeypatch: pytest.MonkeyPatch,
    wait_until,
):
    """The detail read "the model did not answer: " (an empty TimeoutError)."""
    monkeypatch.setattr("service.routes.ops.PROBE_TIMEOUT_S", 0.2)
    gate = make_gate()
    client = make_client(gate)
    gate.close()
    try:
        response = client.get("/readyz")
    finally:
        gate.open()
        # the probe still runs; the session's model must not serve two apps at once
        wait_until(lambda: client.app.state.batcher.idle, "the probe finished")
    assert response.status_code == 503
    assert response.json() == {
        "error": "not_ready",
        "detail": "the model did not label the one-sentence probe within 0.2 s"}
    assert response.headers["Retry-After"] == "1"


def test_readyz_is_503_when_a_batch_is_stuck(
    make_client: Callable[..., TestClient], make_gate, monkeypatch: pytest.MonkeyPatch,
    wait_until,
):
    """Skipping the probe while busy must not hide a model that never comes back."""
    monkeypatch.setattr("service.routes.ops.STUCK_AFTER_S", 0.05)
    gate = make_gate()
    client = make_client(gate)
    gate.close()
    stuck = threading.Thread(target=lambda: client.post("/v1/classify", json={"text": "Hi."}))
    try:
        stuck.start()
        assert gate.entered.wait(10)
        wait_until(lambda: client.app.state.batcher.busy_for > 0.05, "the batch overdue")
        response = client.get("/readyz")
    finally:
        gate.open()
        stuck.join(30)
    assert response.status_code == 503
    assert response.json()["error"] == "not_ready"
    assert "has been labelling one batch for" in response.json()["detail"]


def test_readyz_is_503_once_shutdown_begins(make_client: Callable[..., TestClient]):
    client = make_client()
    client.app.state.shutdown.begin()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["error"] == "shutting_down"
    refused = client.post("/v1/classify", json={"text": "Too late."})
    assert refused.status_code == 503 and refused.json()["error"] == "shutting_down"
    assert refused.headers["Retry-After"] == "1"


def test_model_card(client: TestClient, model: Presslens):
    card = client.get("/v1/model").json()
    assert card["model_id"] == model.card.model_id
    assert card["labels"] == model.card.labels
    assert card["encoder"]["checksum"] == model.card.encoder.checksum


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_latency_sentences_and_model(
    make_client: Callable[..., TestClient], model: Presslens
):
    client = make_client()  # its own registry: counts start at zero
    text = "One sentence here. And another one."
    client.post("/v1/classify", json={"text": text})
    client.post("/v1/classify", json={"text": " "})
    client.get("/no/such/page")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    body = metrics.text
    route = {"route": "/v1/classify", "method": "POST"}
    assert _sample(body, "presslens_requests_total", **route, status="200") == 1
    assert _sample(body, "presslens_requests_total", **route, status="422") == 1
    assert _sample(body, "presslens_requests_total", route="unmatched", status="404") == 1
    assert _sample(body, "presslens_request_duration_seconds_count", **route) == 2
    assert _sample(body, "presslens_request_duration_seconds_bucket", **route, le="+Inf") == 2
    warm_up = len(split(WARM_UP))  # labelled at start-up
    assert _sample(body, "presslens_sentences_classified_total") == warm_up + 2
    assert _sample(body, "presslens_model_info", model_id=model.card.model_id,
                   version=model.card.version) == 1
    assert _sample(body, "presslens_queue_documents") == 0
    assert _sample(body, "presslens_queue_sentences") == 0
    assert _sample(body, "presslens_dropped_sentences_total", reason="client_gone") == 0


def test_page_and_its_assets_are_served(client: TestClient):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert {"/static/app.js", "/static/classify.js", "/static/style.css"} <= set(assets)
    for asset in assets:
        assert client.get(asset).status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # nothing off the box


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v2/classify", 404), ("GET", "/v1/classify", 405), ("DELETE", "/healthz", 405),
    ("GET", "/static/missing.js", 404),
])
def test_unknown_routes_get_json_errors(client: TestClient, method: str, path: str, status: int):
    response = client.request(method, path)
    assert response.status_code == status
    assert set(response.json()) == {"error", "detail"}


def test_openapi_describes_every_route(client: TestClient):
    document = client.get("/openapi.json").json()
    assert set(document["paths"]) >= {"/v1/classify", "/v1/classify/batch", "/v1/model",
                                      "/v1/admin/reload", "/healthz", "/readyz", "/metrics"}
    body = document["paths"]["/v1/classify"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "text/plain"}
    schemas = document["components"]["schemas"]
    assert schemas["ClassifyRequest"]["properties"]["text"]["maxLength"] == Settings().max_chars
    assert client.get("/docs").status_code == 200
