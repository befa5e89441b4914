"""Reading request bodies by hand: size checked before parsing, UTF-8 checked, JSON or text.

FastAPI's own body handling parses JSON only and reads the whole body first; the classify
routes also take ``text/plain`` (so ``curl --data-binary @article.txt`` works) and must
refuse an oversized body before it is parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from service.errors import ApiError

JSON = "json"
TEXT = "text"
# curl --data-binary sends application/x-www-form-urlencoded unless told otherwise: taken as text.
M = TypeVar("M", bound=BaseModel)
TEXT_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", ""})
UTF8_CHARSETS = frozenset({"", "utf-8", "utf8", "us-ascii", "ascii"})
FORM = "application/x-www-form-urlencoded"
# An HTML form's encoding: name=value pairs joined by &, no whitespace anywhere.
FORM_FIELDS = re.compile(r"[A-Za-z_][\w.\[\]-]*=[^\s&]*(?:&[A-Za-z_][\w.\[\]-]*=[^\s&]*)*")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def body_kind(request: Request, allowed: Sequence[str] = (JSON, TEXT)) -> str:
    """JSON or TEXT from Content-Type; 415 for anything else, or a charset other than UTF-8."""
    header = request.headers.get("content-type", "")
    media, _, params = header.partition(";")
    media = media.strip().lower()
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    kind = JSON if media == "application/json" or media.endswith("+json") else (
        TEXT if media in TEXT_TYPES else None)
    if kind is None or kind not in allowed:
        accepted = "application/json" + (" or text/plain" if TEXT in allowed else "")
        raise ApiError(415, "unsupported_media_type",
                       f"Content-Type {media or '(none)'} is not accepted; send {accepted}")
    if charset not in UTF8_CHARSETS:
        raise ApiError(415, "unsupported_media_type",
                       f"charset {charset} is not accepted; send UTF-8")
    return kind


def _too_large(size: str, limit: int) -> ApiError:
    return ApiError(413, "payload_too_large",
                    f"request body is {size} bytes; the limit is {limit} bytes "
                    "(12 bytes per character of PRESSLENS_MAX_CHARS, plus 64 KiB)")


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, "bad_request", f"Content-Length {declared!r} is not a number")
        if int(declared) > limit:
            raise _too_large(declared.strip(), limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(f"over {limit}", limit)
            chunks.append(chunk)
    except ClientDisconnect as error:  # hung up while sending: nobody to answer, no error
        raise ApiError(499, "client_closed_request",
                       "the client closed the connection while sending the body") from error
    return b"".join(chunks)


def refuse_json_as_text(text: str, request: Request) -> None:
    """415 for a text body that is really JSON (``curl -d '{"text": …}'`` sends it as a form)
    or an HTML form's ``text=…``: a client that meant to send fields, not an article.

    Classifying its braces and quotes as an article's text would hide the client's mistake
    behind a plausible answer; accepting it as JSON would make the content type mean nothing
    and misread the article that happens to look like JSON. No article is a JSON object.
    """
    media = _media_type(request) or "(none)"
    stripped = text.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            value = json.loads(stripped)
        except ValueError:
            return
        if isinstance(value, dict):
            raise ApiError(415, "unsupported_media_type",
                           f"the body is a JSON object, but its Content-Type {media} makes it "
                           "the article's literal text; send it with Content-Type: "
                           "application/json")
    if media == FORM and FORM_FIELDS.fullmatch(stripped) and "text" in parse_qs(stripped):
        raise ApiError(415, "unsupported_media_type",
                       f"the body is form fields (text=…), which Content-Type {FORM} does not "
                       "make into a request here; send {\"text\": …} with Content-Type: "
                       "application/json, or the article itself as text/plain")


def decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(
            400, "invalid_utf8",
            f"request body is not valid UTF-8: byte 0x{body[error.start]:02x} at offset "
            f"{error.start} ({error.reason})",
        ) from error


def parse_json(text: str, model: type[M]) -> M:
    """Validate JSON into ``model``; 422 naming each bad field (``body.<field>``)."""
    try:
        return model.model_validate_json(text)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from error


def check_chars(text: str, field: str, limit: int) -> None:
    if len(text) > limit:
        raise ApiError(413, "payload_too_large",
                       f"{field} is {len(text)} characters; the limit is {limit} characters "
                       "(PRESSLENS_MAX_CHARS)")
