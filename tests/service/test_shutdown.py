"""SIGTERM with work queued: the requests in flight are answered (200 when their batches
finish within the grace period, 503 otherwise; never a 500), one arriving after the signal
is refused, and the process exits, even while a batch runs past the grace period.

The server runs in a process of its own (``slow_server.py``: ``presslens serve``'s
``uvicorn.run`` over a model whose batches take as long as the test says), so the signal
and uvicorn's shutdown are the real ones.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

SERVER = Path(__file__).with_name("slow_server.py")
ROOT = SERVER.parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("slow", "grace", "status"), [
    (1.5, 8, 200),  # the work in flight finishes within the grace period: answered
    (120, 2, 503),  # it would run past it: answered 503 before uvicorn cancels anything
])
def test_sigterm_answers_every_request_in_flight(
    model_dir: Path, wait_until: Callable[..., None], slow: float, grace: int, status: int
):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(SERVER), str(model_dir), str(port), str(slow), str(grace)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
    )
    answers: dict[str, httpx.Response] = {}

    def post(name: str, text: str) -> None:
        answers[name] = httpx.post(f"{base}/v1/classify", json={"text": text}, timeout=300)

    def ready() -> dict | None:
        try:
            return httpx.get(f"{base}/readyz", timeout=5).json()
        except httpx.HTTPError:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            return None

    clients = [threading.Thread(target=post, args=("long", "A slow sentence."))]
    clients += [threading.Thread(target=post, args=(f"queued{i}", f"Queued sentence {i}."))
                for i in range(3)]
    try:
        wait_until(lambda: (ready() or {}).get("status") == "ready", "the server ready", 300)
        clients[0].start()
        wait_until(lambda: ready()["queue"]["busy"], "the long batch running")
        for client in clients[1:]:
            client.start()
        wait_until(lambda: ready()["queue"]["documents"] == 3, "three requests queued")
        server.send_signal(signal.SIGTERM)
        for client in clients:
            client.join(120)
        server.wait(60)  # a hung process fails here: the 120 s batch must not hold it
    finally:
        if server.poll() is None:
            server.kill()
    log = server.stdout.read() if server.stdout else ""
    assert server.returncode in (0, -signal.SIGTERM), log
    for name in ("long", "queued0", "queued1", "queued2"):
        response = answers[name]
        assert response.status_code == status, (name, response.text)
        if status == 503:
            assert response.json()["error"] == "shutting_down"
            assert "PRESSLENS_GRACEFUL_SHUTDOWN" in response.json()["detail"]
            assert response.headers["Retry-After"] == "1"
    assert "Traceback" not in log and " 500" not in log and "never retrieved" not in log, log
