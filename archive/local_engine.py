"""``--engine local``: the plan labelled in this process, one batch after another.

For small inputs and for machines where Ray cannot run. It reads, batches, labels and writes
with the same functions as the Ray workers, so the two engines' tables agree.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from archive.engine import EngineResult, Progress, sentence_count
from archive.labelling import label_rows
from archive.output import write_part
from archive.plan import Plan, file_rows, keep_to_label

if TYPE_CHECKING:
    from model.predict import Presslens

def batches(tables: Iterable[pa.Table], size: int) -> Iterator[pa.Table]:
    """The rows of ``tables`` regrouped into tables of ``size`` rows (the last may be short)."""
    pending: list[pa.Table] = []
    count = 0
    for table in tables:
        while table.num_rows:
            take = table.slice(0, size - count)
            pending.append(take)
            count += take.num_rows
            table = table.slice(take.num_rows)
            if count == size:
                yield pa.concat_tables(pending)
                pending, count = [], 0
    if count:
        yield pa.concat_tables(pending)


def run_local(plan: Plan, root: Path, model: Presslens, batch_size: int, part_rows: int,
              on_progress: Progress) -> EngineResult:
    result = EngineResult()
    pending: list[pa.Table] = []

    def flush() -> None:
        if pending:
            stats = write_part(root, pa.concat_tables(pending))
            result.articles += stats.articles
            result.sentences += stats.sentences
            pending.clear()

    labelled_articles = labelled_sentences = 0
    kept = (keep_to_label(t, plan.skip) for t in file_rows(plan.files))
    for batch in batches(kept, batch_size):
        labelled = label_rows(model, batch, plan.carried)
        pending.append(labelled)
        labelled_articles += labelled.num_rows
        labelled_sentences += sentence_count(labelled)
        on_progress(labelled_articles, labelled_sentences)
        if sum(t.num_rows for t in pending) >= part_rows:
            flush()
    flush()
    result.nodes = {socket.gethostname(): result.articles}
    result.worker_info = [{"node": socket.gethostname(), "pid": os.getpid(),
                           "threads": getattr(model.encoder, "threads", None),
                           "torch": "torch" in sys.modules}]
    return result
