"""POST /v1/compare: the seeds' pairs and changes, an article against itself, every error."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from model.compare import Comparison, compare
from model.predict import Presslens

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ORIGINAL, REWRITE = "000_38e477e218487515.txt", "001_f81694604ca57c9e.txt"
TARGETS = ["Iran", "Russia"]
TEXT = "Iran and Russia signed a treaty on Friday. Critics called the pact a dangerous alliance."


@pytest.fixture(scope="module")
def seed_pairs() -> dict[str, Any]:
    return json.loads((FIXTURES / "seed_pairs.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seeds(seed_texts: dict[str, str]) -> tuple[str, str]:
    return seed_texts[ORIGINAL], seed_texts[REWRITE]


@pytest.fixture(scope="module")
def answer(client: TestClient, seeds: tuple[str, str]) -> dict[str, Any]:
    response = client.post("/v1/compare", json={"a": seeds[0], "b": seeds[1], "targets": TARGETS})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def expected(model: Presslens, seeds: tuple[str, str]) -> Comparison:
    return compare(model, seeds[0], seeds[1], TARGETS)


def _find(sentences: list[dict], opening: str, boilerplate: bool = False) -> int:
    found = [s["index"] for s in sentences
             if s["text"].startswith(opening) and s["boilerplate"] == boilerplate]
    assert len(found) == 1, f"{opening!r} names {len(found)} sentences"
    return found[0]


def test_seeds_pair_the_sentences_a_reader_pairs(answer: dict, seed_pairs: dict) -> None:
    a, b = answer["a"]["sentences"], answer["b"]["sentences"]
    wanted = {(_find(a, x), _find(b, y)) for x, y in seed_pairs["pairs"] if y is not None}
    assert {(p["a"], p["b"]) for p in answer["pairs"]} == wanted
    assert answer["removed"] == [_find(a, x) for x, y in seed_pairs["pairs"] if y is None]
    assert answer["added"] == []


def test_seeds_answer_matches_the_model_comparison(answer: dict, expected: Comparison,
                                                   model: Presslens) -> None:
    assert answer["model"] == {"id": model.card.model_id, "version": model.card.version}
    assert answer["pairs"] == [p.model_dump() for p in expected.pairs]
    assert answer["changes"] == [p.model_dump() for p in expected.changes]
    assert answer["changes"], "the rewrite changes no framing or stance"
    assert all(c["framing_changed"] or c["stance_changed"] for c in answer["changes"])
    strengths = [c["strength"] for c in answer["changes"]]
    assert strengths == sorted(strengths, reverse=True)
    assert answer["framing_shift"] == expected.framing_shift
    assert [(r["a"], r["b"]) for r in answer["rows"]] == expected.rows()


def test_seeds_boilerplate_is_counted_per_version(answer: dict, seed_pairs: dict,
                                                  seeds: tuple[str, str]) -> None:
    for side, name, text in (("a", ORIGINAL, seeds[0]), ("b", REWRITE, seeds[1])):
        version = answer[side]
        assert version["boilerplate"] == [
            _find(version["sentences"], o, boilerplate=True)
            for o in seed_pairs["boilerplate"][name]
        ]
        for s in version["sentences"]:
            assert text[s["start"]:s["end"]] == s["text"]  # offsets index that version's text
        content = [s for s in version["sentences"] if not s["boilerplate"]]
        for label, share in version["framing"].items():
            count = sum(s["framing"]["label"] == label for s in content)
            assert share == pytest.approx(count / len(content), abs=1e-4)
    assert (len(answer["a"]["boilerplate"]), len(answer["b"]["boilerplate"])) == (7, 3)
    paired = {p["a"] for p in answer["pairs"]} | set(answer["removed"])
    assert not paired & set(answer["a"]["boilerplate"])


def test_identical_texts_report_no_change(client: TestClient, seeds: tuple[str, str]) -> None:
    body = client.post("/v1/compare", json={"a": seeds[1], "b": seeds[1]}).json()
    content = [s["index"] for s in body["a"]["sentences"] if not s["boilerplate"]]
    assert [(p["a"], p["b"]) for p in body["pairs"]] == [(i, i) for i in content]
    assert body["changes"] == [] and body["removed"] == [] and body["added"] == []
    assert not any(p["changed"] for p in body["pairs"])
    assert set(body["framing_shift"].values()) == {0.0}
    assert body["a"]["boilerplate"] == body["b"]["boilerplate"]


# --- errors: the same limits and messages as /v1/classify ------------------------------------


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "detail", "errors"}
    assert "Traceback" not in response.text
    return body


@pytest.fixture(scope="module")
def small_limits(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(max_chars=50)


@pytest.mark.parametrize("side", ["a", "b"])
def test_version_over_max_chars_is_413_naming_the_limit(small_limits: TestClient, side: str):
    payload = {"a": "Short one.", "b": "Short two.", side: "a" * 51}
    body = _error(small_limits.post("/v1/compare", json=payload), 413)
    assert body["detail"].startswith(f"{side} is 51 characters")
    assert "50" in body["detail"] and "PRESSLENS_MAX_CHARS" in body["detail"]
    fits = {"a": "a" * 50, "b": "b" * 50}
    assert small_limits.post("/v1/compare", json=fits).status_code == 200


def test_oversized_body_is_refused_before_parsing(small_limits: TestClient) -> None:
    limit = 2 * (12 * 50 + 65_536)
    response = small_limits.post("/v1/compare", content=b"{" * (limit + 1),
                                 headers={"Content-Type": "application/json"})
    assert str(limit) in _error(response, 413)["detail"]


@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("text", ["", "  ", "\n\t \r\n"])
def test_empty_or_whitespace_version_is_422(client: TestClient, side: str, text: str):
    payload = {"a": TEXT, "b": TEXT, side: text}
    body = _error(client.post("/v1/compare", json=payload), 422)
    assert "empty or whitespace" in body["detail"]
    assert [e["field"] for e in body["errors"]] == [f"body.{side}"]


@pytest.mark.parametrize("raw", [b'{"a": ', b"{a: 'single quotes'}", b""])
def test_malformed_json_is_422(client: TestClient, raw: bytes):
    response = client.post("/v1/compare", content=raw,
                           headers={"Content-Type": "application/json"})
    body = _error(response, 422)
    assert body["errors"][0]["field"] == "body" and "Invalid JSON" in body["detail"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"a": TEXT}, "body.b"),
    ({"a": 5, "b": TEXT}, "body.a"),
    ({"a": TEXT, "b": TEXT, "targets": "Iran"}, "body.targets"),
    ({"a": TEXT, "b": TEXT, "targets": ["Iran", " "]}, "body.targets.1"),
    ({"a": TEXT, "b": TEXT, "text": TEXT}, "body.text"),
])
def test_wrong_fields_are_422_naming_the_field(client: TestClient, payload: dict, field: str):
    body = _error(client.post("/v1/compare", json=payload), 422)
    assert field in [e["field"] for e in body["errors"]]
    assert field in body["detail"]


def test_plain_text_is_415(client: TestClient) -> None:
    response = client.post("/v1/compare", content=b"hello",
                           headers={"Content-Type": "text/plain"})
    assert "application/json" in _error(response, 415)["detail"]


def test_api_key_is_required_when_configured(make_client: Callable[..., TestClient],
                                             make_gate: Callable[[], Any],
                                             model: Presslens) -> None:
    gate = make_gate()
    keyed = make_client(gate, api_keys="alpha")
    calls = len(gate.calls)
    payload = {"a": TEXT, "b": TEXT}
    for headers in ({}, {"X-API-Key": "wrong"}):
        response = keyed.post("/v1/compare", json=payload, headers=headers)
        assert _error(response, 401)["error"] in {"missing_api_key", "invalid_api_key"}
    assert len(gate.calls) == calls  # refused without model time
    assert keyed.post("/v1/compare", json=payload, headers={"X-API-Key": "alpha"}).json()["pairs"]


def test_full_queue_is_503_with_retry_after(make_client: Callable[..., TestClient],
                                            make_gate: Callable[[], Any]) -> None:
    """A comparison queues both versions: with one slot left of two, it is refused whole."""
    gate = make_gate()
    client = make_client(gate, max_queue=2, retry_after=4)
    gate.close()
    answers: list[int] = []

    def post() -> None:
        answers.append(client.post("/v1/classify", json={"text": TEXT}).status_code)

    threads = [threading.Thread(target=post) for _ in range(2)]
    try:
        threads[0].start()
        assert gate.entered.wait(10)  # the first is labelling; the second waits in the queue
        threads[1].start()
        deadline = time.monotonic() + 10
        while client.app.state.batcher.depth < 1:
            assert time.monotonic() < deadline, "queue never filled"
            time.sleep(0.02)
        refused = client.post("/v1/compare", json={"a": TEXT, "b": TEXT})
        body = _error(refused, 503)
        assert refused.headers["Retry-After"] == "4"
        assert "adds 2" in body["detail"] and "PRESSLENS_MAX_QUEUE" in body["detail"]
    finally:
        gate.open()
        for thread in threads:
            thread.join(10)
    assert answers == [200, 200]
