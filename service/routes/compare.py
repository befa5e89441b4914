"""POST /v1/compare: two versions of a story, aligned sentence by sentence, and what changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from model.compare import Comparison, VersionSummary, build_comparison
from model.predict import Presslens, SentenceResult
from service.body import JSON, body_kind, check_chars, decode_utf8, parse_json, read_limited
from service.compare_schemas import CompareRequest, CompareResponse, CompareRow, CompareVersion
from service.deps import BatcherDep, HolderDep, SettingsDep
from service.openapi import request_body
from service.results import model_ref, sentence
from service.routes.classify import CLASSIFY_ERRORS, _classify
from service.security import require_api_key

router = APIRouter(prefix="/v1", tags=["compare"], dependencies=[Depends(require_api_key)])


async def compare_request(request: Request, settings: SettingsDep) -> CompareRequest:
    """JSON only; each version is held to the same character limit as one classify text."""
    body_kind(request, allowed=(JSON,))
    raw = decode_utf8(await read_limited(request, 2 * settings.max_body_bytes))
    body = parse_json(raw, CompareRequest)
    check_chars(body.a, "a", settings.max_chars)
    check_chars(body.b, "b", settings.max_chars)
    return body


def _comparison(
    model: Presslens, sentences_a: list[SentenceResult], sentences_b: list[SentenceResult],
    targets: Sequence[str],
) -> Comparison:
    """Encode both versions' content sentences and compare (blocking: run in a thread)."""
    content_a = [s.text for s in sentences_a if not s.boilerplate]
    content_b = [s.text for s in sentences_b if not s.boilerplate]
    vectors = model.encoder.encode(content_a + content_b)
    return build_comparison(sentences_a, sentences_b, vectors[: len(content_a)],
                            vectors[len(content_a):], targets)


def _version(summary: VersionSummary) -> CompareVersion:
    return CompareVersion(
        sentences=[sentence(s) for s in summary.sentences],
        boilerplate=summary.boilerplate,
        framing=summary.framing_shares,
        stance=summary.stance,
    )


@router.post(
    "/compare",
    response_model=CompareResponse,
    responses=CLASSIFY_ERRORS,
    openapi_extra=request_body(CompareRequest),
    summary="Compare two versions of a story: what changed in how it is told",
)
async def compare(
    body: Annotated[CompareRequest, Depends(compare_request)],
    settings: SettingsDep, holder: HolderDep, batcher: BatcherDep,
) -> CompareResponse:
    """Both versions are labelled through the shared queue (503 when it is full); their
    content sentences are then paired one to one by embedding similarity. Indices in
    `pairs`, `removed`, `added`, `changes` and `rows` point into each version's `sentences`."""
    model = holder.model
    sentences_a, sentences_b = await _classify(
        batcher, model, [(body.a, body.targets), (body.b, body.targets)], settings
    )
    result = await run_in_threadpool(_comparison, model, sentences_a, sentences_b, body.targets)
    return CompareResponse(
        model=model_ref(model.card),
        threshold=result.threshold,
        targets=result.targets,
        a=_version(result.a),
        b=_version(result.b),
        pairs=result.pairs,
        removed=result.removed,
        added=result.added,
        framing_shift=result.framing_shift,
        changes=result.changes,
        rows=[CompareRow(a=a, b=b) for a, b in result.rows()],
    )
