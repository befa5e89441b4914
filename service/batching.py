"""A bounded queue of documents and one worker thread that labels them in shared batches.

Requests never run the encoder on the event loop: they enqueue documents and await
futures. The worker takes every document waiting (up to a document count and an
estimated sentence budget) and labels them with one ``label_documents`` call, so concurrent
requests share encoder batches. The queue is bounded: past ``max_queue`` waiting
documents, ``submit`` refuses at once (the API answers 503) instead of letting latency
and memory grow.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from model.predict import LabelledDocument

logger = logging.getLogger("presslens.service")


class Classifier(Protocol):
    def label_documents(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[LabelledDocument]: ...


class QueueFullError(RuntimeError):
    """More documents waiting than the bound allows."""


class ShuttingDownError(RuntimeError):
    """The service is stopping; queued work will not run."""


WAIT_SHARE = 0.1
"""A batch waits for more documents at most this share of the previous model call's time."""
BatchObserver = Callable[[int, int, float], None]
"""Called after each model call with (documents, sentences, seconds)."""


def estimate_sentences(text: str) -> int:
    """An over-estimate of the sentence count, cheap enough to run on the event loop."""
    return 1 + sum(text.count(mark) for mark in ".!?\n")


@dataclass(slots=True)
class Job:
    model: Classifier
    text: str
    targets: tuple[str, ...]
    cost: int
    future: Future[LabelledDocument] = field(default_factory=Future)


class Batcher:
    """One worker thread over a bounded FIFO of documents."""

    def __init__(
        self,
        max_queue: int,
        max_batch_documents: int,
        max_batch_sentences: int,
        observer: BatchObserver | None = None,
        batch_wait: float = 0.0,
    ) -> None:
        self.max_queue = max_queue
        self.batch_wait = batch_wait
        self._last_call = 0.0
        self.max_batch_documents = max_batch_documents
        self.max_batch_sentences = max_batch_sentences
        self._observer = observer
        self._queue: deque[Job] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="presslens-batcher", daemon=True)

    @property
    def depth(self) -> int:
        """Documents waiting (not counting the batch being labelled)."""
        return len(self._queue)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Refuse new work; the worker finishes its batch, then fails what is still queued."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()

    def stop(self, timeout: float = 30.0) -> None:
        """Close and wait for the worker to finish."""
        self.close()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def submit(
        self, model: Classifier, documents: Sequence[tuple[str, Sequence[str]]]
    ) -> list[Future[LabelledDocument]]:
        """Queue all documents or none; ``QueueFullError`` when they do not fit."""
        jobs = [Job(model, text, tuple(targets), estimate_sentences(text))
                for text, targets in documents]
        with self._ready:
            if self._stopping:
                raise ShuttingDownError("the service is shutting down")
            if len(self._queue) + len(jobs) > self.max_queue:
                raise QueueFullError(
                    f"{len(self._queue)} documents are waiting for the model and this request "
                    f"adds {len(jobs)}; the limit is {self.max_queue} (PRESSLENS_MAX_QUEUE)"
                )
            self._queue.extend(jobs)
            self._ready.notify()
        return [job.future for job in jobs]

    async def classify(
        self, model: Classifier, documents: Sequence[tuple[str, Sequence[str]]]
    ) -> list[LabelledDocument]:
        """Submit and await; cancelling the caller drops its documents that have not started."""
        futures = self.submit(model, documents)
        return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                self._gather()
                if self._stopping:
                    self._fail_queued()
                    return
                jobs = self._take()
            try:
                self._label(jobs)
            except Exception as error:  # never let the worker die: fail the batch instead
                logger.exception("batch worker error")
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(error)

    def _gather(self) -> None:
        """Give documents on their way a moment to join a batch that is not full.

        Without it, clients answered by one batch come back while the next one is already
        running, and batches settle at half the number of clients. The moment is
        ``batch_wait`` seconds at most, and never more than WAIT_SHARE of the last model
        call (none before the first), so waiting costs a bounded share of latency.
        """
        deadline = time.monotonic() + min(self.batch_wait, WAIT_SHARE * self._last_call)
        while not self._stopping and not self._full() and (left := deadline - time.monotonic()) > 0:
            self._ready.wait(left)

    def _full(self) -> bool:
        return (len(self._queue) >= self.max_batch_documents
                or sum(job.cost for job in self._queue) >= self.max_batch_sentences)

    def _take(self) -> list[Job]:
        """The oldest live job and the ones after it that share its model and fit the budget."""
        jobs: list[Job] = []
        cost = 0
        while self._queue and len(jobs) < self.max_batch_documents:
            job = self._queue[0]
            over_budget = cost + job.cost > self.max_batch_sentences
            if jobs and (job.model is not jobs[0].model or over_budget):
                break
            self._queue.popleft()
            if job.future.set_running_or_notify_cancel():
                jobs.append(job)
                cost += job.cost
        return jobs

    def _label(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        started = time.perf_counter()
        try:
            results = jobs[0].model.label_documents([j.text for j in jobs],
                                                    [j.targets for j in jobs])
        except Exception as error:
            if len(jobs) > 1:
                # One bad document must not fail the others it happened to share a batch with.
                for job in jobs:
                    self._label([job])
                return
            logger.exception("labelling a document of %d characters failed", len(jobs[0].text))
            jobs[0].future.set_exception(error)
            return
        seconds = time.perf_counter() - started
        self._last_call = seconds
        if self._observer is not None:
            self._observer(len(jobs), sum(len(r.sentences) for r in results), seconds)
        for job, result in zip(jobs, results, strict=True):
            job.future.set_result(result)

    def _fail_queued(self) -> None:
        while self._queue:
            job = self._queue.popleft()
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(ShuttingDownError("the service is shutting down"))
