"""Work is bounded by what it costs: sentences, tokens and answer bytes per article and per
request are limited (413 naming the limit and the count), the queue admits by sentences,
a request whose client hung up leaves the queue unlabelled, and /readyz never waits
behind requests."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from model.predict import Presslens
from model.segment import split
from service.app import create_app
from service.cost import AnswerSize
from service.results import model_ref
from service.settings import Settings

TIGHT = {"max_document_sentences": 10, "max_request_sentences": 25, "max_queue_sentences": 25,
         "max_document_tokens": 200, "max_request_tokens": 300}


def _lines(n: int, word: str = "Line") -> str:
    return "\n".join(f"{word} number {i} is here." for i in range(n))


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    return body["detail"]


@pytest.fixture(scope="module")
def tight(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(**TIGHT)


def test_fifty_kilobytes_of_lines_is_413_before_any_model_time(
    make_client: Callable[..., TestClient], make_gate
):
    """The issue's case: 25,000 one-letter lines were 12.6 s of model time and 8.5 MB."""
    gate = make_gate()
    client = make_client(gate)
    calls = len(gate.calls)
    for response in (client.post("/v1/classify", json={"text": "a\n" * 25_000}),
                     client.post("/v1/classify", content=b"a\n" * 25_000,
                                 headers={"Content-Type": "text/plain"})):
        detail = _error(response, 413)
        assert "text has more than 1000 sentences" in detail
        assert "the limit is 1000 per article (PRESSLENS_MAX_DOCUMENT_SENTENCES)" in detail
    assert len(gate.calls) == calls


def test_an_article_over_the_sentence_limit_is_413_with_its_count(tight: TestClient):
    detail = _error(tight.post("/v1/classify", json={"text": _lines(12)}), 413)
    assert detail.startswith("text has 12 sentences; the limit is 10 per article")
    assert tight.post("/v1/classify", json={"text": _lines(10)}).status_code == 200


def test_the_request_limit_counts_every_article(tight: TestClient):
    documents = [{"text": _lines(9)} for _ in range(3)]
    detail = _error(tight.post("/v1/classify/batch", json={"documents": documents}), 413)
    assert "the request has 27 sentences (counted to documents.2.text)" in detail
    assert "the limit is 25 per request (PRESSLENS_MAX_REQUEST_SENTENCES)" in detail
    assert tight.post("/v1/classify/batch",
                      json={"documents": documents[:2]}).status_code == 200
    detail = _error(tight.post("/v1/compare", json={"a": _lines(9), "b": _lines(12)}), 413)
    assert detail.startswith("b has 12 sentences")


def _tokens_in(detail: str) -> int:
    return int(re.search(r"needs (?:at least )?(\d+) tokens", detail).group(1))


def test_each_target_a_sentence_names_costs_its_tokens_again(tight: TestClient):
    """A sentence naming several targets is encoded once more for each: 32 targets named in
    every sentence made one article cost 33 times its text."""
    text = "Iran, Russia and Turkey " + "met again " * 25 + "on Friday."
    assert tight.post("/v1/classify", json={"text": text}).status_code == 200
    response = tight.post("/v1/classify", json={"text": text,
                                                "targets": ["Iran", "Russia", "Turkey"]})
    detail = _error(response, 413)
    assert "the limit is 200 per article (PRESSLENS_MAX_DOCUMENT_TOKENS)" in detail
    assert _tokens_in(detail) > 200
    two = {"documents": [{"text": text}] * 2}
    assert tight.post("/v1/classify/batch", json=two).status_code == 200
    detail = _error(tight.post("/v1/classify/batch",
                               json={"documents": [{"text": text}] * 6}), 413)
    assert "PRESSLENS_MAX_REQUEST_TOKENS" in detail and _tokens_in(detail) > 300


def test_an_answer_over_the_size_limit_is_refused_up_front(
    make_client: Callable[..., TestClient], make_gate
):
    gate = make_gate()
    client = make_client(gate, max_response_bytes=4096)
    calls = len(gate.calls)
    detail = _error(client.post("/v1/classify", json={"text": _lines(20)}), 413)
    match = re.search(r"the answer would be about (\d+) bytes; the limit is 4096 bytes "
                      r"\(PRESSLENS_MAX_RESPONSE_BYTES\)", detail)
    assert match and int(match.group(1)) > 4096
    assert len(gate.calls) == calls  # refused before the model was asked
    assert client.post("/v1/classify", json={"text": _lines(2)}).status_code == 200


@pytest.mark.parametrize("targets", [[], ["Iran", "Russia", "Tehran"]])
def test_the_size_known_up_front_bounds_the_real_answer(
    client: TestClient, model: Presslens, seed_001: str, targets: list[str]
):
    size = AnswerSize(model.card.labels)
    bound = size.document(split(seed_001), targets)
    bound += len(model_ref(model.card).model_dump_json())
    answer = client.post("/v1/classify", json={"text": seed_001, "targets": targets})
    assert len(answer.content) <= bound <= 1.5 * len(answer.content)
    versions = {"a": seed_001, "b": seed_001[: len(seed_001) // 2], "targets": targets}
    compared = client.post("/v1/compare", json=versions)
    bound = sum(size.comparison(split(versions[v]), targets) for v in "ab")
    assert len(compared.content) <= bound + len(model_ref(model.card).model_dump_json())


def test_the_queue_admits_by_sentences(make_client: Callable[..., TestClient], make_gate,
                                       wait_until):
    gate = make_gate()
    client = make_client(gate, max_queue=64, max_queue_sentences=40, max_request_sentences=40,
                         max_document_sentences=40, retry_after=4)
    gate.close()
    answers: list[int] = []

    def post(text: str) -> None:
        answers.append(client.post("/v1/classify", json={"text": text}).status_code)

    first = threading.Thread(target=post, args=("One sentence.",))
    second = threading.Thread(target=post, args=(_lines(30),))
    fits = threading.Thread(target=post, args=(_lines(5, "Small"),))
    try:
        first.start()
        assert gate.entered.wait(10)  # the worker is busy; what follows waits in the queue
        second.start()
        wait_until(lambda: client.app.state.batcher.pending == 30, "30 sentences queued")
        refused = client.post("/v1/classify", json={"text": _lines(30, "Other")})
        detail = _error(refused, 503)
        assert refused.json()["error"] == "overloaded" and refused.headers["Retry-After"] == "4"
        assert detail.startswith("30 sentences are waiting for the model")
        assert "the limit is 40 (PRESSLENS_MAX_QUEUE_SENTENCES)" in detail
        assert client.app.state.batcher.depth == 1  # one document: the documents bound is far
        fits.start()  # 30 + 5 sentences fit
        wait_until(lambda: client.app.state.batcher.pending == 35, "the small request queued")
    finally:
        gate.open()
        first.join(30)
        second.join(30)
        if fits.is_alive():
            fits.join(30)
    assert answers == [200, 200, 200]


def _metric(client: TestClient, name: str, **labels: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_client_that_hangs_up_is_dropped_before_its_batch_is_encoded(
    make_gate, serve_live, wait_until
):
    """Three requests whose clients hung up were labelled in full; the next waited 22 s."""
    gate = make_gate()
    app = create_app(Settings(), loader=lambda _: gate)
    port = serve_live(app)
    batcher = app.state.batcher
    gate.close()
    first: list[int] = []
    occupy = threading.Thread(target=lambda: first.append(httpx.post(
        f"http://127.0.0.1:{port}/v1/classify", json={"text": "Kept."}, timeout=60).status_code))
    gone = "Gone one. Gone two. Gone three."
    body = json.dumps({"text": gone}).encode()
    try:
        occupy.start()
        assert gate.entered.wait(10)
        with socket.create_connection(("127.0.0.1", port)) as hung_up:
            hung_up.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: t\r\nContent-Type: "
                            b"application/json\r\nContent-Length: %d\r\n\r\n%s"
                            % (len(body), body))
            wait_until(lambda: batcher.depth == 1, "the request queued")
        wait_until(lambda: batcher.depth == 0, "the gone request left the queue")
        assert batcher.pending == 0
    finally:
        gate.open()
        occupy.join(30)
    assert first == [200]
    assert gone not in gate.texts
    client = TestClient(app)
    assert _metric(client, "presslens_dropped_sentences_total", reason="client_gone") == 3
    assert _metric(client, "presslens_requests_total", route="/v1/classify", status="499") == 1


def test_measuring_never_splits_beside_the_models_splitter(seed_texts: dict[str, str]):
    """model.segment keeps one pysbd Segmenter, which holds the text it works on: two
    threads splitting with it got each other's sentences (a 50 KB article measured as a
    few sentences was admitted). Measuring splits with its own copy."""
    from model.segment import split as model_split
    from service.cost import split as measuring_split

    def spans(segments: list) -> list[tuple[int, int, bool]]:
        return [(s.start, s.end, s.boilerplate) for s in segments]

    first, second = list(seed_texts.values())[:2]
    expected = {first: spans(model_split(first)), second: spans(model_split(second))}
    wrong: list[str] = []

    def repeat(split_with: Callable, text: str) -> None:
        for _ in range(40):
            if spans(split_with(text)) != expected[text]:
                wrong.append(split_with.__module__)

    threads = [threading.Thread(target=repeat, args=(model_split, first)),
               threading.Thread(target=repeat, args=(measuring_split, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not wrong
