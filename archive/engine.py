"""What both engines share: the progress callback they call and the result they return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

# (articles labelled so far, sentence rows so far): the CLI's progress bar
Progress = Callable[[int, int], None]


@dataclass
class EngineResult:
    """What an engine wrote: articles and sentence rows, and which node labelled how many."""

    articles: int = 0
    sentences: int = 0
    workers: int = 1
    nodes: dict[str, int] = field(default_factory=dict)
    # per worker: pid, node, threads, and whether torch was imported (it must not be)
    worker_info: list[dict[str, object]] = field(default_factory=list)


def sentence_count(labelled: pa.Table) -> int:
    """Sentence rows in labelled articles (``schema.labelled_schema``)."""
    return int(pc.sum(pc.list_value_length(labelled.column("sentence_rows"))).as_py() or 0)
