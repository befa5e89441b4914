"""Health, readiness, metrics, the model card, the page and unknown routes."""

from __future__ import annotations

import re
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


def test_readyz_is_503_while_the_queue_is_full(make_client: Callable[..., TestClient], make_gate):
    gate = make_gate()
    client = make_client(gate, max_queue=1)
    gate.close()
    try:
        import threading

        waiting = threading.Thread(target=lambda: client.get("/readyz"))
        waiting.start()  # taken by the worker, which then waits at the gate
        assert gate.entered.wait(10)
        queued = threading.Thread(target=lambda: client.get("/readyz"))
        queued.start()
        for _ in range(100):
            if client.app.state.batcher.depth:
                break
            threading.Event().wait(0.05)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["error"] == "not_ready"
    finally:
        gate.open()
        waiting.join(10)
        queued.join(10)


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
