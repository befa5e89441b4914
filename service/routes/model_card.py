"""GET /v1/model (the card) and POST /v1/admin/reload (swap in the model on disk)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends

from model.card import ModelCard
from service.deps import HolderDep, MetricsDep
from service.errors import ApiError
from service.holder import ReloadInProgressError
from service.results import model_ref
from service.schemas import Reloaded, error_responses
from service.security import require_admin

logger = logging.getLogger("presslens.service")
router = APIRouter(prefix="/v1")


@router.get("/model", response_model=ModelCard, tags=["model"], summary="The model card")
async def card(holder: HolderDep) -> ModelCard:
    return holder.model.card


@router.post(
    "/admin/reload",
    response_model=Reloaded,
    responses=error_responses(401, 404, 409),
    dependencies=[Depends(require_admin)],
    tags=["admin"],
    summary="Reload the model from disk",
)
async def reload(holder: HolderDep, metrics: MetricsDep) -> Reloaded:
    """Loads the model completely, then swaps it in: requests already queued finish on the
    model they started with. A load that fails keeps the old model and answers 409 with
    the reason. Disabled (404) unless PRESSLENS_ADMIN_TOKEN is set."""
    try:
        previous, new = await holder.reload()
    except ReloadInProgressError as error:
        raise ApiError(409, "reload_in_progress", str(error)) from error
    except Exception as error:
        logger.warning("model reload failed; still serving the previous model: %s", error)
        raise ApiError(409, "reload_failed",
                       f"reload failed, still serving the previous model: {error}") from error
    metrics.set_model(new.card.model_id, new.card.version)
    logger.info("reloaded model %s %s", new.card.model_id, new.card.version)
    return Reloaded(previous=model_ref(previous.card), model=model_ref(new.card))
