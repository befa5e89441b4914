"""What the labelling routes share: one queue for every request, one way to declare a route.

/v1/classify, /v1/classify/batch and /v1/compare all label through the shared batcher (a
full or closing queue is a 503) and read their bodies by hand (``service.body``), so their
OpenAPI entries name the body and the errors that reading and queueing can bring.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.types import DecoratedCallable
from pydantic import BaseModel

from model.predict import LabelledDocument, Presslens
from service.batching import Batcher, QueueFullError, ShuttingDownError
from service.deps import BatcherDep, HolderDep, SettingsDep
from service.errors import ApiError
from service.openapi import request_body
from service.schemas import error_responses
from service.settings import Settings

LABELLING_ERRORS: dict[int | str, dict[str, Any]] = error_responses(400, 401, 413, 415, 422, 503)


@dataclass(frozen=True, slots=True)
class Labeller:
    """The model a request uses (taken once, so a reload cannot change it midway) and the
    queue it labels through."""

    model: Presslens
    batcher: Batcher
    settings: Settings

    async def label(
        self, documents: Sequence[tuple[str, Sequence[str]]]
    ) -> list[LabelledDocument]:
        """Documents through the shared queue; a full or closing queue is a 503."""
        retry = {"Retry-After": str(self.settings.retry_after)}
        try:
            return await self.batcher.classify(self.model, documents)
        except QueueFullError as error:
            raise ApiError(503, "overloaded", str(error), retry) from error
        except ShuttingDownError as error:
            raise ApiError(503, "shutting_down", str(error), retry) from error


async def get_labeller(settings: SettingsDep, holder: HolderDep, batcher: BatcherDep) -> Labeller:
    return Labeller(holder.model, batcher, settings)


LabellerDep = Annotated[Labeller, Depends(get_labeller)]


def labelling_route(
    router: APIRouter, path: str, request: type[BaseModel], response: type[BaseModel],
    summary: str, text: bool = False,
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """POST ``path``: a ``request`` body (JSON; also plain text if ``text``) read by hand,
    labelled through the queue, answered as ``response``."""
    return router.post(path, response_model=response, responses=LABELLING_ERRORS,
                       openapi_extra=request_body(request, text=text), summary=summary)
