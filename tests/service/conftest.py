"""One loaded model per session, and apps over it built with any settings.

The model is the shipped one (model/default) when it exists, else a small one trained
from a slice of the corpus. Apps get it through ``create_app``'s loader, so building an
app with other settings costs no second load.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from model.predict import DEFAULT_MODEL_DIR, LabelledDocument, Presslens, default_backend
from service.app import create_app
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "training" / "data" / "train.csv"
SEED_001 = "001_f81694604ca57c9e.txt"
ROWS_PER_LABEL = 12


def _small_training_csv(path: Path) -> Path:
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    picked: list[dict[str, str]] = []
    for head in ("framing", "stance"):
        for label in sorted({r[head] for r in rows if r[head]}):
            picked += [r for r in rows if r[head] == label and r not in picked][:ROWS_PER_LABEL]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    return path


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if (DEFAULT_MODEL_DIR / "card.json").is_file():
        return DEFAULT_MODEL_DIR
    from training.fit import train

    work = tmp_path_factory.mktemp("service-model")
    train([_small_training_csv(work / "small.csv")], work / "model", cache_dir=work / "cache")
    return work / "model"


@pytest.fixture(scope="session")
def backend(model_dir: Path) -> str:
    """The service's default runtime for the shipped model; torch for a freshly trained one."""
    return default_backend(model_dir) if model_dir == DEFAULT_MODEL_DIR else "torch"


@pytest.fixture(scope="session")
def model(model_dir: Path, backend: str) -> Presslens:
    return Presslens.load(model_dir, backend)


class Gate:
    """Wraps the model; while closed, ``label_documents`` waits, so tests can fill the queue."""

    def __init__(self, model: Presslens) -> None:
        self.model = model
        self.card = model.card
        self.heads = model.heads
        self.calls: list[int] = []
        self.texts: list[str] = []
        self.entered = threading.Event()
        self._open = threading.Event()
        self._open.set()

    def close(self) -> None:
        self.entered.clear()
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def label_documents(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[LabelledDocument]:
        self.calls.append(len(texts))
        self.texts.extend(texts)
        self.entered.set()
        assert self._open.wait(30), "gate left closed"
        return self.model.label_documents(texts, targets)


@pytest.fixture(scope="session")
def make_gate(model: Presslens) -> Callable[[], Gate]:
    return lambda: Gate(model)


@pytest.fixture(scope="session")
def make_client(model: Presslens) -> Iterator[Callable[..., TestClient]]:
    """``make_client(model=..., **settings)``: a started app (lifespan run) over ``model``."""
    with ExitStack() as stack:

        def make(model_object: Any = model, **settings: Any) -> TestClient:
            app = create_app(Settings(**settings), loader=lambda _: model_object)
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))

        yield make


@pytest.fixture(scope="session")
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def serve_live() -> Iterator[Callable[[FastAPI], int]]:
    """``serve_live(app)``: the app behind a real uvicorn on a loopback port (returned), in a
    thread: for what only a server shows (TCP hang-ups, requests uvicorn cannot parse)."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(app: FastAPI) -> int:
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return server.servers[0].sockets[0].getsockname()[1]

    yield serve
    for server, thread in running:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="session")
def seed_001(seed_texts: dict[str, str]) -> str:
    return seed_texts[SEED_001]


def _wait_until(condition: Callable[[], object], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.01)


@pytest.fixture(scope="session")
def wait_until() -> Callable[..., None]:
    """``wait_until(condition, what)``: poll until true; fail naming ``what`` after 30 s."""
    return _wait_until
