"""The FastAPI application: ``create_app(settings)`` wires routers, errors, metrics, lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from importlib import metadata

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from model.artifact import ModelLoadError
from model.predict import Presslens, default_backend
from service import protocol
from service.batching import Batcher
from service.errors import install_error_handlers
from service.holder import ModelHolder
from service.metrics import Metrics, MetricsMiddleware
from service.openapi import build_openapi
from service.routes import ROUTERS
from service.routes.page import STATIC_DIR
from service.settings import Settings
from service.shutdown import Shutdown, on_signals

logger = logging.getLogger("presslens.service")
Loader = Callable[[Settings], Presslens]
WARM_UP = "The service starts. Its first sentence warms the encoder."

DESCRIPTION = """Sentence-level framing and stance of news articles.

POST an article to `/v1/classify` (JSON, or the raw text as `text/plain`) and get every
sentence back with its offsets, framing and stance, and a summary. Errors are JSON
objects `{"error", "detail"}` naming the field or limit at fault."""


def load_model(settings: Settings) -> Presslens:
    """The model named by the settings, on the configured (or default) encoder runtime."""
    backend = settings.backend or default_backend(settings.model_dir)
    return Presslens.load(settings.model_dir, backend)


def _version() -> str:
    try:
        return metadata.version("presslens")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def create_app(settings: Settings | None = None, loader: Loader = load_model) -> FastAPI:
    """The app; the model is loaded by ``loader`` once, when the app starts (lifespan)."""
    settings = settings or Settings()
    metrics = Metrics()

    startup_error: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            model = await asyncio.to_thread(loader, settings)
        except (ModelLoadError, OSError) as error:
            startup_error.append(f"cannot load the model: {error}")
            raise
        batcher = Batcher(settings.max_queue, settings.max_batch_documents,
                          settings.max_batch_sentences, metrics.observe_batch,
                          settings.batch_wait_ms / 1000, settings.max_queue_sentences,
                          metrics.observe_drop)
        batcher.start()
        shutdown = Shutdown(settings.graceful_shutdown, batcher.close)
        app.state.holder = ModelHolder(model, partial(loader, settings))
        app.state.batcher = batcher
        app.state.shutdown = shutdown
        metrics.set_model(model.card.model_id, model.card.version)
        metrics.queue_depth.set_function(lambda: batcher.depth)
        metrics.queue_sentences.set_function(lambda: batcher.pending)
        try:
            await batcher.classify(model, [(WARM_UP, ())])
            logger.info("serving model %s %s", model.card.model_id, model.card.version)
            with on_signals(shutdown.begin):
                yield
        finally:
            shutdown.begin()
            await asyncio.to_thread(batcher.stop, shutdown.remaining())

    # FastAPIOffline serves /docs and /redoc from Swagger UI's and ReDoc's files in the
    # fastapi-offline package: FastAPI's own pages load them from a CDN, blank offline.
    app = FastAPIOffline(title="presslens", version=_version(), description=DESCRIPTION,
                         lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    protocol.install()
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(OneLineStartupFailure, reasons=startup_error)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = partial(build_openapi, app, settings)  # type: ignore[method-assign]
    return app


class OneLineStartupFailure:
    """A model that cannot load is the operator's to fix, and its reason is one clear line
    (a file's sha256 does not match the card, ...). Starlette reports a failed start-up with
    the whole traceback, which uvicorn prints; for such a failure, send the reason alone."""

    def __init__(self, app: ASGIApp, reasons: list[str]) -> None:
        self.app = app
        self.reasons = reasons

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def one_line(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self.reasons:
                message = {**message, "message": self.reasons[-1]}
            await send(message)

        await self.app(scope, receive, one_line)
