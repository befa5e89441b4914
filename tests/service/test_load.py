"""Bounded work: a full queue answers 503 with Retry-After; a failing model answers no trace."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
from fastapi.testclient import TestClient

from model.predict import LabelledDocument, Presslens

TEXT = {"text": "The council approved the budget on Monday."}


def _wait_for_depth(client: TestClient, depth: int) -> None:
    deadline = time.monotonic() + 10
    while client.app.state.batcher.depth < depth:
        assert time.monotonic() < deadline, "queue never filled"
        time.sleep(0.02)


def test_full_queue_is_503_with_retry_after(make_client: Callable[..., TestClient], make_gate):
    gate = make_gate()
    client = make_client(gate, max_queue=2, retry_after=3)
    gate.close()
    answers: list[int] = []

    def post() -> None:
        answers.append(client.post("/v1/classify", json=TEXT).status_code)

    threads = [threading.Thread(target=post) for _ in range(3)]
    try:
        threads[0].start()
        assert gate.entered.wait(10)  # the first is labelling; the next two fill the queue
        for thread in threads[1:]:
            thread.start()
        _wait_for_depth(client, 2)
        refused = client.post("/v1/classify", json=TEXT)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "3"
        assert "PRESSLENS_MAX_QUEUE" in refused.json()["detail"]
        batch = client.post("/v1/classify/batch", json={"documents": [TEXT]})
        assert batch.status_code == 503
    finally:
        gate.open()
        for thread in threads:
            thread.join(10)
    assert answers == [200, 200, 200]  # everything admitted is answered


def test_queued_requests_share_one_model_call(make_client: Callable[..., TestClient], make_gate):
    gate = make_gate()
    client = make_client(gate, max_queue=8, max_batch_documents=8)
    gate.close()
    threads = [threading.Thread(target=lambda: client.post("/v1/classify", json=TEXT))
               for _ in range(4)]
    try:
        threads[0].start()
        assert gate.entered.wait(10)
        for thread in threads[1:]:
            thread.start()
        _wait_for_depth(client, 3)
        calls = len(gate.calls)
    finally:
        gate.open()
        for thread in threads:
            thread.join(10)
    assert gate.calls[calls:] == [3]  # the three that waited went in one batch


class Broken:
    """A model that fails on every call: what an unexpected bug looks like to the service."""

    def __init__(self, model: Presslens) -> None:
        self.card = model.card
        self.calls = 0

    def label_documents(self, texts, targets=None):
        self.calls += 1
        if self.calls == 1:  # let the start-up warm-up pass
            return [LabelledDocument([], np.zeros((0, 2))) for _ in texts]
        raise RuntimeError("secret internal state /srv/model")


def test_unexpected_error_is_a_json_500_without_trace(
    make_client: Callable[..., TestClient], model: Presslens
):
    client = make_client(Broken(model))
    response = client.post("/v1/classify", json=TEXT)
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error", "detail": "internal error; the server log has the details"
    }
    assert "secret" not in response.text and "Traceback" not in response.text
    metrics = client.get("/metrics").text
    assert 'route="/v1/classify",status="500"' in metrics
