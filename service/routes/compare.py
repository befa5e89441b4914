"""POST /v1/compare: two versions of a story, aligned sentence by sentence, and what changed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from model.compare import build_comparison
from model.compare_results import VersionSummary
from service.body import JSON, body_kind, check_chars, decode_utf8, parse_json, read_limited
from service.compare_schemas import CompareRequest, CompareResponse, CompareRow, CompareVersion
from service.cost import Piece
from service.deps import SettingsDep
from service.results import model_ref, sentence
from service.routes.labelling import LabellerDep, labelling_route
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


def _version(summary: VersionSummary) -> CompareVersion:
    return CompareVersion(
        sentences=[sentence(s) for s in summary.sentences],
        boilerplate=summary.boilerplate,
        framing=summary.framing_shares,
        stance=summary.stance,
    )


@labelling_route(router, "/compare", CompareRequest, CompareResponse,
                 "Compare two versions of a story: what changed in how it is told")
async def compare(
    body: Annotated[CompareRequest, Depends(compare_request)], labeller: LabellerDep
) -> CompareResponse:
    """Both versions are measured together (413 past a limit; the sentence limit per
    request covers both) and labelled through the shared queue (503 when it is full); their
    content sentences are then paired one to one by embedding similarity. Indices in
    `pairs`, `removed`, `added`, `changes` and `rows` point into each version's `sentences`."""
    model = labeller.model
    targets = tuple(body.targets)
    a, b = await labeller.label([Piece("a", body.a, targets), Piece("b", body.b, targets)],
                                compare=True)
    # aligns on the vectors of the batched call: no second encoding, no work outside the queue
    result = await run_in_threadpool(
        build_comparison, a.sentences, b.sentences, a.vectors, b.vectors, body.targets)
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
