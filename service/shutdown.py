"""Graceful shutdown that fits a container's stop timeout, and never answers 500.

On SIGTERM uvicorn stops accepting connections and waits for the requests in flight, up
to ``timeout_graceful_shutdown``; the app hears of it only at lifespan shutdown, after
that wait. Left at that, queued requests waited for a model that would not get to them,
and those still waiting when uvicorn's timeout struck were cancelled into plain-text 500s.
So the app listens to the signal too, in front of uvicorn's handler: the first signal
closes the queue to new requests (answered 503 ``shutting_down`` with Retry-After at once),
lets the requests already in flight (queued, or being measured) be labelled, and answers
503 to any still waiting shortly before the grace period (PRESSLENS_GRACEFUL_SHUTDOWN)
ends, so uvicorn has nothing left to cancel and the process exits within the period.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

logger = logging.getLogger("presslens.service")
MARGIN_S = 1.0
"""Requests still waiting are answered this long before the grace period ends (a quarter of
it when it is shorter), leaving time to send the answers and exit."""
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    """When the service began stopping, and how long requests may still wait."""

    def __init__(self, grace: float, on_begin: Callable[[], None]) -> None:
        self.grace = grace
        self._on_begin = on_begin
        self.started: float | None = None
        self._began = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self.started is not None

    def begin(self) -> None:
        """Close the queue to new requests (those in flight still run); idempotent."""
        if self.started is not None:
            return
        self.started = time.monotonic()
        logger.info("shutting down: new requests are refused; those in flight have %.1f s",
                    self.remaining())
        self._on_begin()
        self._began.set()

    def remaining(self) -> float:
        """Seconds left for waiting requests (the whole period before shutdown begins)."""
        budget = self.grace - min(MARGIN_S, self.grace / 4)
        if self.started is None:
            return budget
        return max(0.0, budget - (time.monotonic() - self.started))

    async def expired(self) -> None:
        """Returns once requests still waiting for the model must be answered."""
        await self._began.wait()
        await asyncio.sleep(self.remaining())


@contextmanager
def on_signals(callback: Callable[[], None]) -> Iterator[None]:
    """Run ``callback`` on the event loop at SIGTERM or SIGINT, then the server's handler.

    Only where a server (uvicorn) handles the signal in the main thread: elsewhere (tests
    driving the app from another thread) there is nothing to chain in front of.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous: dict[int, Callable[[int, FrameType | None], object]] = {}

    def handle(sig: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)
        previous[sig](sig, frame)

    for sig in SIGNALS:
        current = signal.getsignal(sig)
        if callable(current):
            previous[sig] = current
            signal.signal(sig, handle)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is handle:
                signal.signal(sig, handler)
