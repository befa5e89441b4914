"""What the labelling routes share: one queue for every request, one way to declare a route.

/v1/classify, /v1/classify/batch and /v1/compare all label through the shared batcher and
read their bodies by hand (``service.body``), so their OpenAPI entries name the body and
the errors that reading, measuring and queueing can bring. A request is measured before it
is queued (``service.cost``: 413 over a limit), queued by its sentences (503 when the queue
is full, or closed before the request arrived), and, while it waits, dropped if its client
goes away and answered 503 if the service must stop before its batch is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.types import DecoratedCallable
from pydantic import BaseModel

from model.predict import LabelledDocument, Presslens
from service.batching import Batcher
from service.cost import Limits, Piece, estimate_sentences, measure_async
from service.deps import BatcherDep, HolderDep, SettingsDep, ShutdownDep
from service.errors import ApiError
from service.openapi import request_body
from service.queue_limits import QueueFullError, ShuttingDownError
from service.results import model_ref
from service.schemas import error_responses
from service.settings import Settings
from service.shutdown import Shutdown

LABELLING_ERRORS: dict[int | str, dict[str, Any]] = error_responses(400, 401, 413, 415, 422, 503)
CLIENT_GONE = 499  # nginx's "client closed request": logged and counted, never received


async def client_gone(request: Request) -> None:
    """Returns once the client has closed its connection (the body has been read, so the
    server has nothing else to tell the app)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _retrieved(future: asyncio.Future[Any]) -> None:
    """An abandoned gather still settles (cancelled, or failed): read it, so asyncio does
    not log an exception nobody retrieved."""
    if not future.cancelled():
        future.exception()


@dataclass(frozen=True, slots=True)
class Labeller:
    """The model a request uses (taken once, so a reload cannot change it midway), the
    queue it labels through, and what it needs to be measured and waited for."""

    model: Presslens
    batcher: Batcher
    settings: Settings
    request: Request
    shutdown: Shutdown
    arrived_open: bool  # the request came before shutdown began: it is in flight

    async def label(
        self, pieces: Sequence[Piece], compare: bool = False
    ) -> list[LabelledDocument]:
        """Hold room (503 at once when the queue has none), measure (413 over a limit), queue
        by the measured sentences (503 when they do not fit, or the service is closing),
        wait."""
        s = self.settings
        limits = Limits(s.max_document_sentences, s.max_request_sentences,
                        s.max_document_tokens, s.max_request_tokens, s.max_response_bytes)
        model_bytes = len(model_ref(self.model.card).model_dump_json())
        retry = {"Retry-After": str(s.retry_after)}
        # Room held while measuring: the estimate of each article within the article limit
        # (one far over it will be a 413, and must not crowd out the others meanwhile).
        estimates = (estimate_sentences(p.text) for p in pieces)
        hold = min(sum(e for e in estimates if e <= s.max_document_sentences),
                   s.max_request_sentences)
        try:
            with self.batcher.reserved(hold, self.arrived_open) as admission:
                costs = await measure_async(pieces, limits, self.model.card.labels,
                                            model_bytes, compare)
                futures = self.batcher.submit(
                    self.model, [(p.text, p.targets) for p in pieces], costs, admission)
            return await self._wait(futures)
        except QueueFullError as error:
            raise ApiError(503, "overloaded", str(error), retry) from error
        except ShuttingDownError as error:
            raise ApiError(503, "shutting_down", str(error), retry) from error

    async def _wait(self, futures: list[Future[LabelledDocument]]) -> list[LabelledDocument]:
        """The results; or, if the client leaves first, its documents leave the queue
        (499); or, if the grace period of a shutdown runs out first, 503."""
        results = asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        gone = asyncio.ensure_future(client_gone(self.request))
        expired = asyncio.ensure_future(self.shutdown.expired())
        try:
            await asyncio.wait((results, gone, expired), return_when=asyncio.FIRST_COMPLETED)
        finally:
            answered = results.done()
            gone.cancel()
            expired.cancel()
            if not answered:
                for future in futures:
                    future.cancel()  # those not yet taken by a batch never will be
                results.cancel()
                results.add_done_callback(_retrieved)
        if answered:
            return list(results.result())
        if expired.done() and not expired.cancelled():
            raise ShuttingDownError(
                "the service is shutting down and this request's batch did not finish within "
                f"the grace period of {self.settings.graceful_shutdown} s "
                "(PRESSLENS_GRACEFUL_SHUTDOWN)")
        raise ApiError(CLIENT_GONE, "client_closed_request",
                       "the client closed the connection before the answer was ready")


async def get_labeller(
    settings: SettingsDep, holder: HolderDep, batcher: BatcherDep, request: Request,
    shutdown: ShutdownDep,
) -> Labeller:
    return Labeller(holder.model, batcher, settings, request, shutdown, not shutdown.stopping)


LabellerDep = Annotated[Labeller, Depends(get_labeller)]


def labelling_route(
    router: APIRouter, path: str, request: type[BaseModel], response: type[BaseModel],
    summary: str, text: bool = False,
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """POST ``path``: a ``request`` body (JSON; also plain text if ``text``) read by hand,
    labelled through the queue, answered as ``response``."""
    return router.post(path, response_model=response, responses=LABELLING_ERRORS,
                       openapi_extra=request_body(request, text=text), summary=summary)
