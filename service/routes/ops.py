"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import Response

from service.deps import BatcherDep, HolderDep, MetricsDep, SettingsDep, ShutdownDep
from service.errors import ApiError
from service.results import model_ref
from service.schemas import Health, QueueState, Ready, error_responses

logger = logging.getLogger("presslens.service")
router = APIRouter(tags=["operations"])
PROBE = "Readiness probe."
PROBE_TIMEOUT_S = 10.0
STUCK_AFTER_S = 120.0
"""A batch labelling longer than this is stuck: the limits keep a batch to seconds."""


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=error_responses(503),
            summary="The model is loaded and answers")
async def readyz(
    holder: HolderDep, batcher: BatcherDep, settings: SettingsDep, shutdown: ShutdownDep
) -> Ready:
    """Ready while the model is loaded and its worker runs (and is not stuck on one batch);
    reports the queue. It labels a probe sentence only when the model is idle: a busy model
    is answering requests, and a probe queued behind them would time out a healthy
    service."""
    model = holder.model
    retry = {"Retry-After": str(settings.retry_after)}
    if shutdown.stopping:
        raise ApiError(503, "shutting_down", "the service is shutting down", retry)
    if not batcher.alive:
        raise ApiError(503, "not_ready", "the batch worker has stopped", retry)
    if batcher.busy_for > STUCK_AFTER_S:
        raise ApiError(503, "not_ready", f"the model has been labelling one batch for "
                       f"{batcher.busy_for:.0f} s (more than {STUCK_AFTER_S:g} s)", retry)
    queue = QueueState(documents=batcher.depth, sentences=batcher.pending, busy=batcher.busy)
    probe = "skipped_busy"
    if batcher.idle:
        try:
            [result] = await asyncio.wait_for(batcher.classify(model, [(PROBE, ())]),
                                              PROBE_TIMEOUT_S)
        except TimeoutError as error:
            raise ApiError(503, "not_ready", "the model did not label the one-sentence probe "
                           f"within {PROBE_TIMEOUT_S:g} s", retry) from error
        except Exception as error:  # a model that fails is not ready; say why, never 500
            logger.warning("readiness probe failed: %r", error)
            raise ApiError(503, "not_ready", f"the probe failed: {type(error).__name__}: "
                           f"{error}", retry) from error
        if not result.sentences:
            raise ApiError(503, "not_ready", "the model answered the probe with no sentence",
                           retry)
        probe = "passed"
    return Ready(status="ready", model=model_ref(model.card), probe=probe, queue=queue)


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
