"""The OpenAPI document: hand-read request bodies described, configured limits filled in."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.settings import Settings
from service.visible import VISIBLE_PATTERN

REF = "#/components/schemas/{model}"
# Bodies read by hand (service.body) are invisible to FastAPI; these get into components here.
_BODY_MODELS: list[type[BaseModel]] = []
# At least one visible character (service.visible): not only whitespace, as Python's
# str.strip() sees it, nor only control or format characters.
NOT_BLANK = VISIBLE_PATTERN
API_KEY_SCHEME = "APIKeyHeader"


def request_body(model: type[BaseModel], text: bool = False) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads ``model`` as JSON (and, if ``text``, plain text)."""
    if model not in _BODY_MODELS:
        _BODY_MODELS.append(model)
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}
    }
    if text:
        content["text/plain"] = {"schema": {"type": "string", "pattern": NOT_BLANK}}
    return {"requestBody": {"required": True, "content": content}}


def _limit_text(
    schema: dict[str, Any], max_chars: int, fields: tuple[str, ...] = ("text",)
) -> None:
    for field in fields:
        text = schema.get("properties", {}).get(field)
        if text is not None:
            text.update(maxLength=max_chars, pattern=NOT_BLANK)


def _drop_security(operation: dict[str, Any], scheme: str) -> None:
    """Keys are off until configured: then the document must not demand one."""
    kept = [r for r in operation.get("security", []) if scheme not in r]
    if kept:
        operation["security"] = kept
    else:
        operation.pop("security", None)


def build_openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """FastAPI's document plus the body models, with PRESSLENS_ limits as schema bounds."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description,
                           routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _, definitions = models_json_schema(
        [(m, "validation") for m in _BODY_MODELS], ref_template=REF
    )
    schemas.update(definitions.get("$defs", {}))
    for name in ("ClassifyRequest", "BatchDocument"):
        if name in schemas:
            _limit_text(schemas[name], settings.max_chars)
    if "CompareRequest" in schemas:
        _limit_text(schemas["CompareRequest"], settings.max_chars, ("a", "b"))
    if "BatchRequest" in schemas:
        schemas["BatchRequest"]["properties"]["documents"]["maxItems"] = settings.max_documents
    for path in document.get("paths", {}).values():
        for operation in path.values():
            text = operation.get("requestBody", {}).get("content", {}).get("text/plain")
            if text:
                text["schema"]["maxLength"] = settings.max_chars
            if not settings.api_keys:
                _drop_security(operation, API_KEY_SCHEME)
    if not settings.api_keys:
        document["components"].get("securitySchemes", {}).pop(API_KEY_SCHEME, None)
    app.openapi_schema = document
    return document
