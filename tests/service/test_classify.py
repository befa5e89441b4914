"""POST /v1/classify and /v1/classify/batch: answers that match the model, and every error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from model.predict import Presslens

TEXT = "Iran and Russia signed a treaty on Friday. Critics called the pact a dangerous alliance."


def _check_offsets(text: str, sentences: list[dict]) -> None:
    assert sentences
    for sentence in sentences:
        assert text[sentence["start"]:sentence["end"]] == sentence["text"]


def test_json_answer_matches_the_model(client: TestClient, model: Presslens, seed_001: str):
    response = client.post("/v1/classify", json={"text": seed_001, "targets": ["Iran", "Russia"]})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == {"id": model.card.model_id, "version": model.card.version}
    _check_offsets(seed_001, body["sentences"])
    expected = model.classify(seed_001, ["Iran", "Russia"])
    assert [s["index"] for s in body["sentences"]] == [s.index for s in expected]
    for got, want in zip(body["sentences"], expected, strict=True):
        assert got["boilerplate"] == want.boilerplate
        assert (got["framing"] or {}).get("label") == (want.framing.label if want.framing else None)
        assert [(p["label"], p["target"]) for p in got["stance"]] == [
            (p.label, p.target) for p in want.stance
        ]
        if got["framing"]:
            assert set(got["framing"]["scores"]) == set(model.card.labels["framing"])
            assert got["framing"]["confidence"] == max(got["framing"]["scores"].values())


def test_stance_per_named_target(client: TestClient):
    body = client.post("/v1/classify", json={"text": TEXT, "targets": ["Iran", "Ukraine"]}).json()
    first, second = body["sentences"]
    assert [p["target"] for p in first["stance"]] == ["Iran"]  # Ukraine is not named in it
    assert [p["target"] for p in second["stance"]] == [None]  # no target named: overall


def test_summary_is_computed_from_the_sentences(client: TestClient, seed_001: str):
    body = client.post("/v1/classify", json={"text": seed_001, "targets": ["Iran"]}).json()
    sentences, summary = body["sentences"], body["summary"]
    content = [s for s in sentences if not s["boilerplate"]]
    assert summary["sentences"] == len(sentences)
    assert summary["boilerplate"] == len(sentences) - len(content) > 0
    assert summary["content"] == len(content)
    for label, share in summary["framing"].items():
        count = sum(s["framing"]["label"] == label for s in content)
        assert share == pytest.approx(count / len(content), abs=1e-4)
    counted = {(row["target"], label): n for row in summary["stance"]
               for label, n in row["counts"].items()}
    for (target, label), n in counted.items():
        assert n == sum(p["target"] == target and p["label"] == label
                        for s in content for p in s["stance"])
    assert {row["target"] for row in summary["stance"]} == {"Iran", None}


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8",
                                          "application/x-www-form-urlencoded"])
def test_plain_text_body(client: TestClient, seed_001: str, content_type: str):
    """``curl --data-binary @article.txt`` sends the second content type."""
    response = client.post("/v1/classify", content=seed_001.encode(),
                           headers={"Content-Type": content_type}, params={"target": "Iran"})
    assert response.status_code == 200
    body = response.json()
    _check_offsets(seed_001, body["sentences"])
    assert {row["target"] for row in body["summary"]["stance"]} == {"Iran", None}


def test_offsets_count_code_points(client: TestClient):
    text = "😀 Emoji first. Then “quotes” and ünïcode.\r\nA second line."
    body = client.post("/v1/classify", json={"text": text}).json()
    _check_offsets(text, body["sentences"])


def _labels(sentences: list[dict]) -> list[tuple]:
    return [(s["start"], s["end"], (s["framing"] or {}).get("label"),
             [(p["label"], p["target"]) for p in s["stance"]]) for s in sentences]


def test_batch_is_answered_in_order(client: TestClient, seed_001: str):
    documents = [{"id": "seed", "text": seed_001, "targets": ["Iran"]},
                 {"id": 7, "text": TEXT}, {"text": "Just one sentence."}]
    response = client.post("/v1/classify/batch", json={"documents": documents})
    assert response.status_code == 200
    answers = response.json()["documents"]
    assert [a["id"] for a in answers] == ["seed", 7, None]
    for document, answer in zip(documents, answers, strict=True):
        _check_offsets(document["text"], answer["sentences"])
        single = client.post("/v1/classify", json={k: v for k, v in document.items() if k != "id"})
        assert _labels(answer["sentences"]) == _labels(single.json()["sentences"])


# --- errors -------------------------------------------------------------------------------


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "detail", "errors"}
    assert "Traceback" not in response.text
    return body


@pytest.fixture(scope="module")
def small_limits(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(max_chars=50, max_documents=2)


def test_text_over_max_chars_is_413_naming_the_limit(small_limits: TestClient):
    body = _error(small_limits.post("/v1/classify", json={"text": "a" * 51}), 413)
    assert "51 characters" in body["detail"] and "50" in body["detail"]
    assert "PRESSLENS_MAX_CHARS" in body["detail"]
    assert small_limits.post("/v1/classify", json={"text": "a" * 50}).status_code == 200


def test_plain_text_over_max_chars_is_413(small_limits: TestClient):
    response = small_limits.post("/v1/classify", content=b"word " * 11,
                                 headers={"Content-Type": "text/plain"})
    assert "PRESSLENS_MAX_CHARS" in _error(response, 413)["detail"]


def test_raw_body_is_refused_before_parsing(small_limits: TestClient):
    limit = 12 * 50 + 65_536
    response = small_limits.post("/v1/classify", content=b"{" * (limit + 1),
                                 headers={"Content-Type": "application/json"})
    body = _error(response, 413)
    assert str(limit) in body["detail"]  # not a JSON error: the body was never parsed


def test_declared_content_length_is_checked_first(small_limits: TestClient):
    response = small_limits.post("/v1/classify", content=b"{}",
                                 headers={"Content-Type": "application/json",
                                          "Content-Length": "999999999"})
    assert "999999999 bytes" in _error(response, 413)["detail"]


def test_batch_limits(small_limits: TestClient):
    three = {"documents": [{"text": "One."}, {"text": "Two."}, {"text": "Three."}]}
    body = _error(small_limits.post("/v1/classify/batch", json=three), 413)
    assert "3 items" in body["detail"] and "PRESSLENS_MAX_DOCUMENTS" in body["detail"]
    long = {"documents": [{"text": "One."}, {"text": "b" * 51}]}
    body = _error(small_limits.post("/v1/classify/batch", json=long), 413)
    assert "documents.1.text" in body["detail"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t \r\n"])
def test_empty_or_whitespace_text_is_422(client: TestClient, text: str):
    body = _error(client.post("/v1/classify", json={"text": text}), 422)
    assert "empty or whitespace" in body["detail"]
    assert body["errors"][0]["field"] == "body.text"
    plain = client.post("/v1/classify", content=text.encode(),
                        headers={"Content-Type": "text/plain"})
    assert "empty or whitespace" in _error(plain, 422)["detail"]


def test_empty_batch_document_names_its_position(client: TestClient):
    response = client.post("/v1/classify/batch",
                           json={"documents": [{"text": "Fine."}, {"text": " "}]})
    assert _error(response, 422)["errors"][0]["field"] == "body.documents.1.text"


@pytest.mark.parametrize("body", [b"\xff\xfeabc", b"caf\xc3", b"\xed\xa0\x80 surrogate"])
def test_invalid_utf8_is_400(client: TestClient, body: bytes):
    response = client.post("/v1/classify", content=body, headers={"Content-Type": "text/plain"})
    assert "not valid UTF-8" in _error(response, 400)["detail"]


def test_invalid_utf8_in_json_is_400(client: TestClient):
    response = client.post("/v1/classify", content=b'{"text": "caf\xe9"}',
                           headers={"Content-Type": "application/json"})
    assert _error(response, 400)["error"] == "invalid_utf8"


@pytest.mark.parametrize(
    "raw", [b'{"text": ', b"{text: 'single quotes'}", b"", b'{"text": "\\ud800"}']
)
def test_malformed_json_is_422(client: TestClient, raw: bytes):
    response = client.post("/v1/classify", content=raw,
                           headers={"Content-Type": "application/json"})
    body = _error(response, 422)
    assert body["errors"][0]["field"] == "body" and "Invalid JSON" in body["detail"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"text": 5}, "body.text"),
    ({"text": "Fine.", "targets": "Iran"}, "body.targets"),
    ({"text": "Fine.", "targets": ["Iran", 3]}, "body.targets.1"),
    ({"text": "Fine.", "targets": ["   "]}, "body.targets.0"),
    ({"targets": ["Iran"]}, "body.text"),
    ({"text": "Fine.", "colour": "red"}, "body.colour"),
    (["Fine."], "body"),
])
def test_wrong_types_are_422_naming_the_field(client: TestClient, payload, field: str):
    body = _error(client.post("/v1/classify", json=payload), 422)
    assert field in [e["field"] for e in body["errors"]]
    assert field in body["detail"]


def test_batch_wrong_types_name_the_field(client: TestClient):
    response = client.post("/v1/classify/batch", json={"documents": [{"text": "a", "id": [1]}]})
    assert "body.documents.0.id" in _error(response, 422)["detail"]
    assert _error(client.post("/v1/classify/batch", json={"documents": []}), 422)


def test_query_targets_add_to_the_body_targets(client: TestClient):
    response = client.post("/v1/classify", json={"text": TEXT, "targets": ["Iran"]},
                           params={"target": "Russia"})
    assert response.json()["sentences"][0]["stance"][1]["target"] == "Russia"
    blank = client.post("/v1/classify", content=TEXT.encode(), params={"target": " "},
                        headers={"Content-Type": "text/plain"})
    assert "query.target" in _error(blank, 422)["detail"]


@pytest.mark.parametrize(("content_type", "path"), [
    ("image/png", "/v1/classify"), ("text/plain", "/v1/classify/batch"),
    ("text/plain; charset=latin-1", "/v1/classify"),
])
def test_unsupported_media_type_is_415(client: TestClient, content_type: str, path: str):
    response = client.post(path, content=b"hello", headers={"Content-Type": content_type})
    assert _error(response, 415)["error"] == "unsupported_media_type"
