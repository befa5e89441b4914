"""The queue's two bounds, documents and sentences, and the errors that say which was hit.

Each message names the numbers and the setting that sets the limit, because the API
passes it on in its 503 answer.
"""

from __future__ import annotations


class QueueFullError(RuntimeError):
    """More documents or sentences waiting than the bounds allow."""


class ShuttingDownError(RuntimeError):
    """The service is stopping: new work is refused, or the time to finish ran out."""


def check_reservation(
    waiting: int, max_queue: int, pending: int, reserved: int, max_sentences: int | None
) -> None:
    """A request about to be measured: refused when the queue is already at a bound,
    counting the sentences other requests being measured hold."""
    if waiting >= max_queue:
        raise QueueFullError(f"{waiting} documents are waiting for the model; "
                             f"the limit is {max_queue} (PRESSLENS_MAX_QUEUE)")
    if max_sentences is not None and pending + reserved >= max_sentences:
        raise QueueFullError(
            f"{pending} sentences are waiting for the model and about {reserved} more are "
            f"being measured; the limit is {max_sentences} (PRESSLENS_MAX_QUEUE_SENTENCES)")


def check_submission(
    waiting: int, documents: int, max_queue: int, pending: int, sentences: int,
    max_sentences: int | None,
) -> None:
    """Documents about to be queued, all or none. The sentence bound applies only when
    something is waiting, so one article under the size limit always gets in."""
    if waiting + documents > max_queue:
        raise QueueFullError(
            f"{waiting} documents are waiting for the model and this request adds "
            f"{documents}; the limit is {max_queue} (PRESSLENS_MAX_QUEUE)")
    if max_sentences is not None and waiting and pending + sentences > max_sentences:
        raise QueueFullError(
            f"{pending} sentences are waiting for the model and this request adds "
            f"{sentences}; the limit is {max_sentences} (PRESSLENS_MAX_QUEUE_SENTENCES)")
