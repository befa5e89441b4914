"""Prometheus metrics, on a registry per app (so several apps, e.g. in tests, never collide)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("presslens_requests", "HTTP requests answered.",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("presslens_request_duration_seconds",
                                 "Time from request to response.", ["route", "method"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.sentences = Counter("presslens_sentences_classified",
                                 "Sentences split and labelled (boilerplate included).", registry=r)
        self.documents = Counter("presslens_documents_classified", "Documents labelled.",
                                 registry=r)
        self.batch_documents = Histogram("presslens_batch_documents",
                                         "Documents per model call.", buckets=SIZE_BUCKETS,
                                         registry=r)
        self.batch_seconds = Histogram("presslens_batch_duration_seconds",
                                       "Time of one model call.", buckets=LATENCY_BUCKETS,
                                       registry=r)
        self.queue_depth = Gauge("presslens_queue_documents",
                                 "Documents waiting for the model.", registry=r)
        self.queue_sentences = Gauge("presslens_queue_sentences",
                                     "Sentences waiting for the model.", registry=r)
        self.dropped = Counter("presslens_dropped_sentences",
                               "Sentences queued but never labelled: their client went away "
                               "(client_gone) or the service stopped (shutting_down).",
                               ["reason"], registry=r)
        self.model_info = Gauge("presslens_model_info", "The served model (value 1).",
                                ["model_id", "version"], registry=r)

    def set_model(self, model_id: str, version: str) -> None:
        self.model_info.clear()
        self.model_info.labels(model_id, version).set(1)

    def observe_batch(self, documents: int, sentences: int, seconds: float) -> None:
        self.documents.inc(documents)
        self.sentences.inc(sentences)
        self.batch_documents.observe(documents)
        self.batch_seconds.observe(seconds)

    def observe_drop(self, reason: str, sentences: int) -> None:
        self.dropped.labels(reason).inc(sentences)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_label(scope: Scope) -> str:
    """The route's template (bounded cardinality), never the raw path."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class MetricsMiddleware:
    """Counts every response by route and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route, method = route_label(scope), scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)
