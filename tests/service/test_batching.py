"""The batcher on its own, with fake models: batching, bounds, cancellation, isolation."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from model.predict import LabelledDocument, SentenceResult
from service.batching import Batcher, QueueFullError, ShuttingDownError, estimate_sentences


class Fake:
    """Echoes each text as one sentence; can block, and fails on texts containing 'poison'."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def label_documents(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[LabelledDocument]:
        self.batches.append(list(texts))
        self.entered.set()
        assert self.release.wait(10)
        if any("poison" in t for t in texts):
            raise ValueError("poisoned")
        return [LabelledDocument([SentenceResult(0, 0, len(t), t, False)], np.zeros((1, 2)))
                for t in texts]


@pytest.fixture
def fake() -> Fake:
    return Fake()


def _started(**limits: Any) -> Batcher:
    batcher = Batcher(**({"max_queue": 8, "max_batch_documents": 8, "max_batch_sentences": 100}
                         | limits))
    batcher.start()
    return batcher


def _block(fake: Fake, batcher: Batcher) -> list:
    """Occupy the worker with one job, so later submissions wait in the queue."""
    fake.release.clear()
    futures = batcher.submit(fake, [("blocker", ())])
    assert fake.entered.wait(5)
    return futures


def test_waiting_documents_share_a_batch(fake: Fake):
    batcher = _started()
    blocker = _block(fake, batcher)
    futures = batcher.submit(fake, [("a", ()), ("b", ())]) + batcher.submit(fake, [("c", ())])
    fake.release.set()
    assert [f.result(5).sentences[0].text for f in futures] == ["a", "b", "c"]
    assert blocker[0].result(5).sentences[0].text == "blocker"
    assert fake.batches == [["blocker"], ["a", "b", "c"]]
    batcher.stop()


def test_documents_arriving_within_the_wait_join_the_batch(fake: Fake):
    batcher = _started(batch_wait=1)
    batcher._last_call = 60.0  # after a slow model call, the next batch may wait (capped: 1 s)
    first = batcher.submit(fake, [("a", ())])
    time.sleep(0.05)  # a client answered by the previous batch, coming back
    second = batcher.submit(fake, [("b", ())])
    assert first[0].result(5).sentences and second[0].result(5).sentences
    assert fake.batches == [["a", "b"]]
    batcher.stop()


def test_the_wait_is_bounded_by_the_model_time(fake: Fake):
    batcher = _started(batch_wait=30)
    batcher.submit(fake, [("warm", ())])[0].result(5)  # a fast call: almost no wait after it
    started = time.monotonic()
    batcher.submit(fake, [("a", ())])[0].result(5)
    assert time.monotonic() - started < 5
    batcher.stop()


def test_a_full_batch_does_not_wait(fake: Fake):
    batcher = _started(batch_wait=30, max_batch_documents=2)
    batcher._last_call = 600.0  # the wait could be the whole 30 s
    started = time.monotonic()
    futures = batcher.submit(fake, [("a", ()), ("b", ())])
    assert [f.result(5).sentences[0].text for f in futures] == ["a", "b"]
    assert time.monotonic() - started < 5
    batcher.stop()


def test_batches_respect_the_document_and_sentence_budgets(fake: Fake):
    batcher = _started(max_batch_documents=2, max_batch_sentences=5)
    _block(fake, batcher)
    texts = ["a", "b", "c", "d. e. f. g.", "h"]  # the fourth alone is estimated at 5 sentences
    futures = batcher.submit(fake, [(t, ()) for t in texts])
    fake.release.set()
    for future in futures:
        future.result(5)
    assert fake.batches[1:] == [["a", "b"], ["c"], ["d. e. f. g."], ["h"]]
    batcher.stop()


def test_a_batch_never_mixes_models(fake: Fake):
    other = Fake()
    batcher = _started()
    _block(fake, batcher)
    futures = [*batcher.submit(fake, [("a", ())]), *batcher.submit(other, [("b", ())]),
               *batcher.submit(fake, [("c", ())])]
    fake.release.set()
    for future in futures:
        future.result(5)
    assert fake.batches[1:] == [["a"], ["c"]] and other.batches == [["b"]]
    batcher.stop()


def test_queue_is_bounded_and_admission_is_all_or_nothing(fake: Fake):
    batcher = _started(max_queue=3)
    _block(fake, batcher)
    batcher.submit(fake, [("a", ()), ("b", ())])
    with pytest.raises(QueueFullError, match="limit is 3"):
        batcher.submit(fake, [("c", ()), ("d", ())])
    assert batcher.depth == 2
    batcher.submit(fake, [("c", ())])
    fake.release.set()
    batcher.stop()


def test_one_bad_document_fails_alone(fake: Fake):
    batcher = _started()
    _block(fake, batcher)
    good, bad, also_good = batcher.submit(fake, [("a", ()), ("poison", ()), ("b", ())])
    fake.release.set()
    assert good.result(5).sentences[0].text == "a" and also_good.result(5).sentences[0].text == "b"
    with pytest.raises(ValueError, match="poisoned"):
        bad.result(5)
    batcher.stop()


def test_cancelled_requests_cost_no_model_time(fake: Fake):
    batcher = _started()
    _block(fake, batcher)

    async def abandon() -> None:
        task = asyncio.ensure_future(batcher.classify(fake, [("gone", ())]))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(abandon())
    kept = batcher.submit(fake, [("kept", ())])
    fake.release.set()
    kept[0].result(5)
    assert ["gone"] not in fake.batches and fake.batches[-1] == ["kept"]
    batcher.stop()


def test_stop_answers_what_is_still_queued_when_its_time_runs_out(fake: Fake):
    drops: list[tuple[str, int]] = []
    batcher = _started(on_drop=lambda *drop: drops.append(drop))
    [running] = _block(fake, batcher)
    [queued] = batcher.submit(fake, [("late", ())], costs=[3])
    batcher.stop(timeout=0.1)  # the batch in progress outlives the time given
    with pytest.raises(ShuttingDownError):
        queued.result(5)
    assert drops == [("shutting_down", 3)]
    fake.release.set()
    assert running.result(5).sentences[0].text == "blocker"
    with pytest.raises(ShuttingDownError):
        batcher.submit(fake, [("after", ())])
    assert fake.batches == [["blocker"]]


def test_estimate_never_undercounts_pysbd_sentences(seed_texts: dict[str, str]):
    from model.segment import split

    for text in seed_texts.values():
        assert estimate_sentences(text) >= len(split(text))


def test_queue_admits_by_pending_sentences_not_documents(fake: Fake):
    """Two documents of 30 sentences fill a queue of 50 sentences, though 8 documents fit."""
    batcher = _started(max_queue=8, max_queue_sentences=50)
    _block(fake, batcher)
    batcher.submit(fake, [("first", ())], costs=[30])
    with pytest.raises(QueueFullError, match=r"30 sentences are waiting.*adds 30; the limit "
                                             r"is 50 \(PRESSLENS_MAX_QUEUE_SENTENCES\)"):
        batcher.submit(fake, [("second", ())], costs=[30])
    assert (batcher.depth, batcher.pending) == (1, 30)
    batcher.submit(fake, [("small", ())], costs=[20])
    assert batcher.pending == 50
    fake.release.set()
    batcher.stop()


def test_an_empty_queue_admits_any_request(fake: Fake):
    """Settings keep a request's limit under the queue's; the empty queue still never blocks."""
    batcher = _started(max_queue_sentences=10)
    _block(fake, batcher)
    [future] = batcher.submit(fake, [("large", ())], costs=[25])
    fake.release.set()
    assert future.result(5).sentences[0].text == "large"
    batcher.stop()


def test_a_cancelled_document_leaves_the_queue_at_once(fake: Fake):
    drops: list[tuple[str, int]] = []
    batcher = _started(max_queue_sentences=50, on_drop=lambda *drop: drops.append(drop))
    _block(fake, batcher)
    [gone] = batcher.submit(fake, [("gone", ())], costs=[40])
    assert gone.cancel()
    assert (batcher.depth, batcher.pending) == (0, 0)  # its room is free before any batch
    assert drops == [("client_gone", 40)]
    [kept] = batcher.submit(fake, [("kept", ())], costs=[40])
    fake.release.set()
    assert kept.result(5).sentences[0].text == "kept"
    assert ["gone"] not in fake.batches
    batcher.stop()


def test_close_refuses_new_requests_and_labels_those_in_flight(fake: Fake):
    """After SIGTERM a request already queued, or being measured under a reservation, is
    still answered; one arriving after is refused."""
    batcher = _started()
    [running] = _block(fake, batcher)
    [queued] = batcher.submit(fake, [("queued", ())])
    with batcher.reserved(1) as admission:
        batcher.close()
        with pytest.raises(ShuttingDownError):
            batcher.submit(fake, [("arrived after", ())])
        with pytest.raises(ShuttingDownError), batcher.reserved(1):
            pass
        with batcher.reserved(1, arrived_open=True) as reading:  # came before, body in transit
            [read] = batcher.submit(fake, [("read", ())], admission=reading)
        [measured] = batcher.submit(fake, [("measured", ())], admission=admission)
    fake.release.set()
    assert [f.result(5).sentences[0].text for f in (running, queued, read, measured)] == [
        "blocker", "queued", "read", "measured"]
    batcher.stop()
    assert not batcher._thread.is_alive()
    assert fake.batches == [["blocker"], ["queued", "read", "measured"]]


def test_a_draining_worker_waits_for_a_request_being_measured(fake: Fake):
    batcher = _started()
    with batcher.reserved(1) as admission:
        batcher.close()
        time.sleep(0.05)
        assert batcher._thread.is_alive()  # the admitted request may still submit
        [future] = batcher.submit(fake, [("late", ())], admission=admission)
    assert future.result(5).sentences[0].text == "late"
    batcher._thread.join(5)
    assert not batcher._thread.is_alive()
    with pytest.raises(ShuttingDownError), batcher.reserved(1, arrived_open=True):
        pass  # nobody is left to label it: refused, not left waiting


def test_an_idle_worker_hands_memory_back(fake: Fake, monkeypatch: pytest.MonkeyPatch):
    trimmed = threading.Event()
    monkeypatch.setattr("service.batching.release_memory", trimmed.set)
    batcher = _started()
    assert not trimmed.wait(0.2)  # nothing ran yet: nothing to hand back
    batcher.submit(fake, [("a", ())])[0].result(5)
    assert trimmed.wait(10)
    batcher.stop()


def test_a_full_queue_refuses_before_any_measuring(fake: Fake):
    """Under a burst, requests past a full queue are refused on arrival instead of being
    split only to be refused: each request being measured holds room by its estimate."""
    batcher = _started(max_queue_sentences=10)
    _block(fake, batcher)
    full = r"0 sentences are waiting for the model and about 10 more are being measured"
    with batcher.reserved(6):
        held = batcher.reserved(4)  # 6 held: there is room left, so it may be measured
        with held, pytest.raises(QueueFullError, match=full), batcher.reserved(1):
            pass
        batcher.submit(fake, [("six", ())], costs=[6])
    with batcher.reserved(4):  # the room held is given back: 6 waiting, room left
        pass
    batcher.submit(fake, [("four", ())], costs=[4])
    with pytest.raises(QueueFullError, match="10 sentences are waiting"), batcher.reserved(1):
        pass
    batcher.close()
    with pytest.raises(ShuttingDownError), batcher.reserved(1):
        pass
    fake.release.set()
    batcher.stop()


def test_an_idle_queue_holds_room_for_any_request(fake: Fake):
    batcher = _started(max_queue_sentences=10)
    with batcher.reserved(500):  # nothing waiting, nothing held: it may go ahead
        pass
    batcher.stop()
