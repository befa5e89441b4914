"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response

from service.batching import QueueFullError, ShuttingDownError
from service.deps import BatcherDep, HolderDep, MetricsDep, SettingsDep
from service.errors import ApiError
from service.results import model_ref
from service.schemas import Health, Ready, error_responses

router = APIRouter(tags=["operations"])
PROBE = "Readiness probe."
PROBE_TIMEOUT_S = 10.0


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=error_responses(503),
            summary="The model is loaded and answers")
async def readyz(holder: HolderDep, batcher: BatcherDep, settings: SettingsDep) -> Ready:
    """Labels a one-sentence probe through the same queue as requests."""
    model = holder.model
    retry = {"Retry-After": str(settings.retry_after)}
    try:
        [result] = await asyncio.wait_for(batcher.classify(model, [(PROBE, ())]), PROBE_TIMEOUT_S)
    except (QueueFullError, ShuttingDownError, TimeoutError) as error:
        raise ApiError(503, "not_ready", f"the model did not answer: {error or 'timeout'}",
                       retry) from error
    if not result:
        raise ApiError(503, "not_ready", "the model answered nothing", retry)
    return Ready(status="ready", model=model_ref(model.card))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                     "description": "Prometheus text format"}},
    summary="Prometheus metrics",
)
async def prometheus(metrics: MetricsDep) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
