"""Every error leaves as an ``ErrorResponse``: a code, a sentence naming what is wrong, no trace."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.schemas import ErrorResponse, FieldError

logger = logging.getLogger("presslens.service")


class ApiError(Exception):
    """An expected failure with its status, stable code and message."""

    def __init__(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def field_name(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """pydantic's error dicts reduced to strings (their ``ctx`` may hold exception objects)."""
    return [
        FieldError(field=field_name(e.get("loc", ())), message=str(e.get("msg", "invalid")),
                   type=str(e.get("type", "value_error")))
        for e in errors
    ]


def _response(status: int, body: ErrorResponse, headers: Mapping[str, str] | None = None):
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        headers=dict(headers or {}))


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return _response(error.status, ErrorResponse(error=error.code, detail=error.detail),
                     error.headers)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = field_errors(error.errors())
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
    return _response(422, ErrorResponse(error="validation_error", detail=detail, errors=errors))


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    try:
        phrase = HTTPStatus(error.status_code).phrase
    except ValueError:
        phrase = "Error"
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    detail = error.detail if isinstance(error.detail, str) else phrase
    return _response(error.status_code, ErrorResponse(error=code, detail=detail),
                     getattr(error, "headers", None))


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return _response(500, ErrorResponse(
        error="internal_error", detail="internal error; the server log has the details"
    ))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
