"""What the batcher queues and how one batch of it is labelled.

A job is one document of one request. A batch shares one ``label_documents`` call; when
that call fails, each document is retried alone, so one bad document fails only its own
request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from model.predict import LabelledDocument

logger = logging.getLogger("presslens.service")

BatchObserver = Callable[[int, int, float], None]
"""Called after each model call with (documents, sentences, seconds)."""
DropObserver = Callable[[str, int], None]
"""Called with (reason, sentences) for each document dropped unlabelled: its request went
away ("client_gone") or the service stopped ("shutting_down")."""


class Classifier(Protocol):
    def label_documents(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[LabelledDocument]: ...


class Admission:
    """A request admitted by ``Batcher.reserved`` before the queue closed: it may still
    submit while the service drains, so a request already in flight is answered."""


@dataclass(slots=True)
class Job:
    model: Classifier
    text: str
    targets: tuple[str, ...]
    cost: int
    future: Future[LabelledDocument] = field(default_factory=Future)


def label_jobs(jobs: list[Job], observer: BatchObserver | None = None) -> float | None:
    """Label ``jobs`` (which share a model) in one call and resolve their futures.

    Returns the model call's seconds, or None when the batch failed and its documents were
    labelled one by one instead.
    """
    if not jobs:
        return None
    started = time.perf_counter()
    try:
        results = jobs[0].model.label_documents([j.text for j in jobs],
                                                [j.targets for j in jobs])
    except Exception as error:
        if len(jobs) > 1:
            # One bad document must not fail the others it happened to share a batch with.
            for job in jobs:
                label_jobs([job], observer)
            return None
        logger.exception("labelling a document of %d characters failed", len(jobs[0].text))
        jobs[0].future.set_exception(error)
        return None
    seconds = time.perf_counter() - started
    if observer is not None:
        observer(len(jobs), sum(len(r.sentences) for r in results), seconds)
    for job, result in zip(jobs, results, strict=True):
        job.future.set_result(result)
    return seconds
