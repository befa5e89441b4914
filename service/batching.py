"""A bounded queue of documents and one worker thread that labels them in shared batches.

Requests never run the encoder on the event loop: they enqueue documents and await
futures. The worker takes every document waiting (up to a document count and a sentence
budget) and labels them with one ``label_documents`` call, so concurrent requests share
encoder batches. The queue is bounded by what its work costs, in sentences (and by a
document count): past either bound ``submit`` refuses at once (the API answers 503)
instead of letting latency and memory grow. A document whose request has gone away is
cancelled, and leaves the queue before any batch encodes it. On shutdown, ``close``
refuses new requests; the work already admitted (queued, or being measured under a
reservation) is still labelled, and the worker exits once none is left. What is still
waiting when ``stop``'s time runs out is answered ``ShuttingDownError``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager

from model.predict import LabelledDocument
from service.cost import estimate_sentences
from service.jobs import (
    Admission,
    BatchObserver,
    Classifier,
    DropObserver,
    Job,
    label_jobs,
    logger,
)
from service.memory import release_memory
from service.queue_limits import (
    QueueFullError,
    ShuttingDownError,
    check_reservation,
    check_submission,
)

__all__ = ["Admission", "Batcher", "Classifier", "QueueFullError", "ShuttingDownError",
           "estimate_sentences"]

WAIT_SHARE = 0.1
"""A batch waits for more documents at most this share of the previous model call's time."""
TRIM_EVERY_S = 1.0
"""At most this often, an idle worker hands freed heap memory back to the system."""
class Batcher:
    """One worker thread over a FIFO of documents bounded in documents and in sentences."""

    def __init__(
        self,
        max_queue: int,
        max_batch_documents: int,
        max_batch_sentences: int,
        observer: BatchObserver | None = None,
        batch_wait: float = 0.0,
        max_queue_sentences: int | None = None,
        on_drop: DropObserver | None = None,
    ) -> None:
        self.max_queue = max_queue
        self.max_queue_sentences = max_queue_sentences
        self.batch_wait = batch_wait
        self._last_call = 0.0
        self.max_batch_documents = max_batch_documents
        self.max_batch_sentences = max_batch_sentences
        self._observer = observer
        self._on_drop = on_drop
        self._queue: deque[Job] = deque()
        self._pending = 0  # sentences in the queue
        self._reserved = 0  # sentences estimated for requests being measured
        self._busy_since: float | None = None  # when the batch being labelled started
        self._last_trim = 0.0
        self._dirty = False  # a batch ran since the last trim
        self._ready = threading.Condition()
        self._stopping = False  # closed to new requests; admitted ones still run
        self._finished = False  # stopped: nothing is labelled any more
        self._admitted = 0  # requests holding a reservation
        self._thread = threading.Thread(target=self._work, name="presslens-batcher", daemon=True)

    @property
    def depth(self) -> int:
        """Documents waiting (not counting the batch being labelled)."""
        return len(self._queue)

    @property
    def pending(self) -> int:
        """Sentences waiting (not counting the batch being labelled)."""
        return self._pending

    @property
    def busy(self) -> bool:
        """Whether a batch is being labelled now."""
        return self._busy_since is not None

    @property
    def busy_for(self) -> float:
        """Seconds the batch being labelled has taken so far (0 when there is none)."""
        since = self._busy_since
        return 0.0 if since is None else time.monotonic() - since

    @property
    def idle(self) -> bool:
        return self._busy_since is None and not self._queue

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Refuse new requests; those admitted before (queued or being measured) still run."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()

    def stop(self, timeout: float = 30.0) -> None:
        """Close, wait (at most ``timeout`` seconds) for the admitted work to be labelled,
        then answer whatever is still queued ``ShuttingDownError``."""
        self.close()
        if self._thread.is_alive():
            self._thread.join(max(timeout, 0.0))
        with self._ready:
            self._finished = True
            self._fail_queued()

    @contextmanager
    def reserved(self, sentences: int, arrived_open: bool = False) -> Iterator[Admission]:
        """Hold room for a request while it is measured; refuse it at once when the queue
        has none left, counting the room others hold. So under a burst the requests past a
        full queue get their 503 on arrival, not after being split only to be refused.

        ``sentences`` is the caller's estimate (``estimate_sentences``); the exact count is
        checked again by ``submit``; pass it the ``Admission`` yielded here, so the request
        is still labelled if the service begins to stop while it is being measured.
        ``arrived_open``: the request reached the service before the queue closed (its
        body was still being read), so it is in flight and is admitted while draining.
        ``QueueFullError`` or ``ShuttingDownError``.
        """
        with self._ready:
            if self._finished or (self._stopping and not arrived_open):
                raise ShuttingDownError("the service is shutting down")
            check_reservation(len(self._queue), self.max_queue, self._pending,
                              self._reserved, self.max_queue_sentences)
            self._reserved += sentences
            self._admitted += 1
        try:
            yield Admission()
        finally:
            with self._ready:
                self._reserved -= sentences
                self._admitted -= 1
                self._ready.notify_all()  # a draining worker may be waiting for this request

    def submit(
        self, model: Classifier, documents: Sequence[tuple[str, Sequence[str]]],
        costs: Sequence[int] | None = None, admission: Admission | None = None,
    ) -> list[Future[LabelledDocument]]:
        """Queue all documents or none; ``QueueFullError`` when they do not fit. ``costs``
        are their sentence counts (``service.cost``); estimated when not given. Once the
        queue is closed only an ``admission`` from ``reserved`` gets in, until ``stop``."""
        if costs is None:
            costs = [estimate_sentences(text) for text, _ in documents]
        jobs = [Job(model, text, tuple(targets), cost)
                for (text, targets), cost in zip(documents, costs, strict=True)]
        adds = sum(costs)
        with self._ready:
            if self._finished or (self._stopping and admission is None):
                raise ShuttingDownError("the service is shutting down")
            check_submission(len(self._queue), len(jobs), self.max_queue, self._pending, adds,
                             self.max_queue_sentences)
            self._queue.extend(jobs)
            self._pending += adds
            self._ready.notify()
        for job in jobs:
            job.future.add_done_callback(lambda _, job=job: self._cancelled(job))
        return [job.future for job in jobs]

    async def classify(
        self, model: Classifier, documents: Sequence[tuple[str, Sequence[str]]],
        costs: Sequence[int] | None = None,
    ) -> list[LabelledDocument]:
        """Submit and await; cancelling the caller drops its documents that have not started."""
        futures = self.submit(model, documents, costs)
        return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))

    def _cancelled(self, job: Job) -> None:
        """A cancelled job leaves the queue now, so its sentences stop counting against it."""
        if not job.future.cancelled():
            return
        with self._ready:
            try:
                self._queue.remove(job)
            except ValueError:
                return  # the worker took it first, and dropped it there
            self._pending -= job.cost
        self._dropped("client_gone", job.cost)

    def _dropped(self, reason: str, sentences: int) -> None:
        if self._on_drop is not None:
            self._on_drop(reason, sentences)

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._drained() and not self._trim_due():
                    self._ready.wait(TRIM_EVERY_S if self._dirty else None)
                if self._drained():
                    self._finished = True  # a late arrival is refused, not left waiting
                    return
                trim = not self._queue
                if trim:
                    self._dirty, self._last_trim = False, time.monotonic()
                else:
                    self._gather()
                    jobs = self._take()
                    self._busy_since = time.monotonic() if jobs else None
            if trim:
                release_memory()
                continue
            try:
                self._label(jobs)
            except Exception as error:  # never let the worker die: fail the batch instead
                logger.exception("batch worker error")
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(error)
            finally:
                self._busy_since = None
                self._dirty = True

    def _drained(self) -> bool:
        """Stopping, with nothing queued and no admitted request left to submit."""
        return self._stopping and not self._queue and self._admitted == 0

    def _trim_due(self) -> bool:
        """After a burst, once idle, hand the heap the batches grew back to the system (glibc
        keeps freed memory otherwise): at most every TRIM_EVERY_S seconds."""
        return self._dirty and time.monotonic() - self._last_trim >= TRIM_EVERY_S

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
                or self._pending >= self.max_batch_sentences)

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
            self._pending -= job.cost
            if job.future.set_running_or_notify_cancel():
                jobs.append(job)
                cost += job.cost
            else:
                self._dropped("client_gone", job.cost)
        return jobs

    def _label(self, jobs: list[Job]) -> None:
        seconds = label_jobs(jobs, self._observer)
        if seconds is not None:
            self._last_call = seconds

    def _fail_queued(self) -> None:
        """Answer everything queued now (under the lock): the service is stopping."""
        while self._queue:
            job = self._queue.popleft()
            self._pending -= job.cost
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(ShuttingDownError("the service is shutting down"))
                self._dropped("shutting_down", job.cost)
            else:
                self._dropped("client_gone", job.cost)
