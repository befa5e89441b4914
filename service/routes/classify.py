"""POST /v1/classify and /v1/classify/batch: articles in, labelled sentences out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from service.body import (
    JSON,
    body_kind,
    check_chars,
    decode_utf8,
    parse_json,
    read_limited,
    refuse_json_as_text,
)
from service.cost import Piece
from service.deps import SettingsDep
from service.errors import ApiError
from service.results import model_ref, sentence, summarize
from service.routes.labelling import LabellerDep, labelling_route
from service.schemas import (
    MAX_TARGETS,
    BatchRequest,
    BatchResponse,
    ClassifyRequest,
    ClassifyResponse,
    DocumentResult,
    Target,
)
from service.security import require_api_key

router = APIRouter(prefix="/v1", tags=["classify"], dependencies=[Depends(require_api_key)])

TargetQuery = Annotated[
    list[Target] | None,
    Query(max_length=MAX_TARGETS,
          description="Stance targets, repeatable; added to a JSON body's `targets`."),
]


def _plain_text(text: str) -> ClassifyRequest:
    try:
        return ClassifyRequest.model_validate({"text": text})
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body",)} for e in error.errors(include_url=False)]
        ) from error


async def classify_request(
    request: Request, settings: SettingsDep, target: TargetQuery = None
) -> ClassifyRequest:
    """The body as JSON or plain text; ``?target=`` adds targets (a text/plain body's only way)."""
    kind = body_kind(request)
    raw = decode_utf8(await read_limited(request, settings.max_body_bytes))
    if kind != JSON:
        refuse_json_as_text(raw, request)
    body = parse_json(raw, ClassifyRequest) if kind == JSON else _plain_text(raw)
    check_chars(body.text, "text", settings.max_chars)
    if target:
        targets = list(dict.fromkeys([*body.targets, *target]))
        if len(targets) > MAX_TARGETS:
            raise RequestValidationError([{
                "loc": ("query", "target"), "type": "too_many_targets",
                "msg": f"{len(targets)} distinct targets in all ({len(body.targets)} in the "
                       f"body, {len(target)} in ?target=); at most {MAX_TARGETS} together",
            }])
        body = body.model_copy(update={"targets": targets})
    return body


async def batch_request(request: Request, settings: SettingsDep) -> BatchRequest:
    body_kind(request, allowed=(JSON,))
    text = decode_utf8(await read_limited(request, settings.max_batch_body_bytes))
    body = parse_json(text, BatchRequest)
    if len(body.documents) > settings.max_documents:
        raise ApiError(413, "payload_too_large",
                       f"documents has {len(body.documents)} items; the limit is "
                       f"{settings.max_documents} (PRESSLENS_MAX_DOCUMENTS)")
    for i, document in enumerate(body.documents):
        check_chars(document.text, f"documents.{i}.text", settings.max_chars)
    return body


@labelling_route(router, "/classify", ClassifyRequest, ClassifyResponse,
                 "Label every sentence of one article", text=True)
async def classify(
    body: Annotated[ClassifyRequest, Depends(classify_request)], labeller: LabellerDep
) -> ClassifyResponse:
    """JSON `{"text", "targets"}`, or the article as a `text/plain` body (targets in
    `?target=`). `text[start:end]` of the request equals each sentence's `text`."""
    model = labeller.model
    [document] = await labeller.label([Piece("text", body.text, tuple(body.targets))])
    results = document.sentences
    return ClassifyResponse(
        model=model_ref(model.card),
        sentences=[sentence(r) for r in results],
        summary=summarize(results, model.card.labels),
    )


@labelling_route(router, "/classify/batch", BatchRequest, BatchResponse,
                 "Label several articles, answered in order")
async def classify_batch(
    body: Annotated[BatchRequest, Depends(batch_request)], labeller: LabellerDep
) -> BatchResponse:
    model = labeller.model
    pieces = [Piece(f"documents.{i}.text", d.text, tuple(d.targets))
              for i, d in enumerate(body.documents)]
    results = [d.sentences for d in await labeller.label(pieces)]
    return BatchResponse(
        model=model_ref(model.card),
        documents=[
            DocumentResult(id=d.id, sentences=[sentence(r) for r in result],
                           summary=summarize(result, model.card.labels))
            for d, result in zip(body.documents, results, strict=True)
        ],
    )
