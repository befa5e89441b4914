"""Input rules that hold everywhere: targets counted across body and query, text that shows
nothing refused, JSON sent as text refused, one error format (uvicorn's own 400 included),
and a model that cannot load named in one line."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from service.visible import INVISIBLE_RANGES, has_visible

TEXT = "Iran and Russia signed a treaty on Friday."


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "detail", "errors"}
    return body


def test_targets_are_counted_across_body_and_query(client: TestClient):
    """32 in the body plus 32 in ?target= made 64, over the limit of 32."""
    body = {"text": TEXT, "targets": [f"Body{i}" for i in range(32)]}
    query = {"target": [f"Query{i}" for i in range(32)]}
    error = _error(client.post("/v1/classify", json=body, params=query), 422)
    assert error["errors"][0]["field"] == "query.target"
    assert "64 distinct targets in all (32 in the body, 32 in ?target=); at most 32 together" \
        in error["detail"]
    half = {"text": TEXT, "targets": [f"Body{i}" for i in range(16)]}
    assert client.post("/v1/classify", json=half,
                       params={"target": [f"Query{i}" for i in range(16)]}).status_code == 200
    same = client.post("/v1/classify", json=body, params={"target": ["Body0", "Body1"]})
    assert same.status_code == 200  # a target named twice counts once


@pytest.mark.parametrize("text", ["\u200b\u200c", "\x00\x00", "\ufeff", " \u2060\t",
                                  "\u2800", "\U000e0041\U000e0042"])
def test_text_with_no_visible_character_is_422_naming_it(client: TestClient, text: str):
    """Zero-width characters alone were labelled, with 0.91 confidence."""
    shown = f"U+{ord(text.strip()[0]):04X}"
    plain = client.post("/v1/classify", content=text.encode(),
                        headers={"Content-Type": "text/plain"})
    for response, field in ((client.post("/v1/classify", json={"text": text}), "body.text"),
                            (plain, "body")):
        error = _error(response, 422)
        assert error["errors"][0]["type"] == "invisible_text"
        assert error["errors"][0]["field"] == field
        assert f"text has no visible character (only {shown}" in error["detail"]
    batch = client.post("/v1/classify/batch", json={"documents": [{"text": TEXT}, {"text": text}]})
    assert _error(batch, 422)["errors"][0]["field"] == "body.documents.1.text"
    compare = client.post("/v1/compare", json={"a": TEXT, "b": text})
    assert _error(compare, 422)["errors"][0]["field"] == "body.b"


def test_invisible_targets_are_422_and_visible_text_with_invisibles_is_fine(client: TestClient):
    error = _error(client.post("/v1/classify", json={"text": TEXT, "targets": ["\u200b"]}), 422)
    assert error["errors"][0] == {"field": "body.targets.0", "type": "invisible_target",
                                  "message": "target has no visible character (only U+200B: "
                                             "control, format or other invisible characters)"}
    assert client.post("/v1/classify",
                       json={"text": "Zero\u200bwidth inside a sentence."}).status_code == 200


# Lo and So characters that render as nothing: Hangul fillers, the blank braille pattern.
BLANK_LETTERS = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800}


def test_the_invisible_ranges_match_this_pythons_unicode():
    """Every whitespace, control and format character is in the ranges, and nothing in them
    is a character that shows (a letter, digit, mark on its own or symbol that renders)."""
    listed = {c for low, high in INVISIBLE_RANGES for c in range(low, high + 1)}
    missing = [f"U+{c:04X}" for c in range(0x110000)
               if c not in listed and (chr(c).isspace() or unicodedata.category(chr(c))
                                       in {"Cc", "Cf", "Zs", "Zl", "Zp"})]
    assert not missing, f"add to service.visible.INVISIBLE_RANGES: {missing[:20]}"
    shows = [f"U+{c:04X}" for c in sorted(listed) if c not in BLANK_LETTERS
             and unicodedata.category(chr(c)) not in {"Cc", "Cf", "Zs", "Zl", "Zp", "Cn", "Mn"}]
    assert not shows
    assert has_visible("\u200ba") and not has_visible("\u200b\U000e0020 ")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          None])
def test_json_sent_as_text_is_415_naming_the_type_to_use(client: TestClient,
                                                         content_type: str | None):
    """``curl -d '{"text": …}'`` sends a form content type: it was classified as literal
    text, braces and all, silently."""
    headers = {"Content-Type": content_type} if content_type else {}
    raw = json.dumps({"text": TEXT, "targets": ["Iran"]}).encode()
    error = _error(client.post("/v1/classify", content=raw, headers=headers), 415)
    assert error["error"] == "unsupported_media_type"
    assert "is a JSON object" in error["detail"]
    assert "send it with Content-Type: application/json" in error["detail"]


def test_form_fields_are_415_and_text_that_only_looks_structured_is_an_article(
    client: TestClient,
):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    error = _error(client.post("/v1/classify", content=b"text=Iran+signed&target=Iran",
                               headers=form), 415)
    assert "form fields (text=…)" in error["detail"]
    for article in ("{Braces} open this article. It is still an article.",
                    "[1, 2, 3] are the numbers the minister quoted.", "text=is just text"):
        response = client.post("/v1/classify", content=article.encode(), headers=form)
        assert response.status_code == 200, response.text


def _raw_http(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def test_uvicorns_own_400_is_json(model, serve_live: Callable):
    """``Content-Length: abc`` never reaches the app: uvicorn answered it in plain text."""
    port = serve_live(create_app(Settings(), loader=lambda _: model))
    status, headers, body = _raw_http(
        port, b"POST /v1/classify HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Content-Length: abc\r\n\r\n{}")
    assert status.startswith("HTTP/1.1 400")
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    assert error["error"] == "bad_request" and "Content-Length" in error["detail"]


def test_a_model_that_fails_its_checksum_stops_serve_with_one_line(
    model_dir: Path, tmp_path: Path
):
    """The reason was there, inside a 55-line traceback."""
    tampered = tmp_path / "model"
    tampered.mkdir()
    for item in model_dir.iterdir():
        if item.is_dir():
            (tampered / item.name).symlink_to(item.resolve())
        else:
            shutil.copy(item, tampered / item.name)
    head = next(p for p in tampered.iterdir() if p.suffix == ".npz")
    head.write_bytes(head.read_bytes() + b"tampered")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = subprocess.run(
        [sys.executable, "-m", "presslens.cli", "serve", "--model", str(tampered),
         "--port", str(port)],
        capture_output=True, text=True, timeout=300, env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode != 0
    log = run.stdout + run.stderr
    assert "Traceback" not in log
    reasons = [line for line in log.splitlines() if "does not match the sha256" in line]
    assert len(reasons) == 1 and f"cannot load the model: {head}" in reasons[0]
