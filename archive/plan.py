"""Before labelling: one pass over the input's ids that decides what each row becomes.

A row is refused (malformed, or an id seen earlier in file order), skipped (its article is
already in the output: a rerun), or to be labelled. Only a pass over every id can tell the
first of two rows with one id from the second, so the engines label from this plan, which
also gives the progress bar its total and the tables their carried columns. It reads ids and
checks text; the engines read the text again to label it, spread over their workers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from archive.manifest import Reject
from archive.schema import RESERVED
from archive.sources import display_name, file_format, read_rows


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path
    name: str  # as reports and the tables give it
    format: str


@dataclass
class Plan:
    files: list[InputFile]
    carried: list[str] = field(default_factory=list)
    # per file name: lines not to label though well formed (duplicates, already written)
    skip: dict[str, np.ndarray] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    to_label: int = 0
    already_written: int = 0


def input_files(paths: Iterable[Path], root: Path) -> list[InputFile]:
    return [InputFile(p, display_name(p, root), str(file_format(p))) for p in paths]


def file_rows(files: Iterable[InputFile]) -> Iterator[pa.Table]:
    """Every file's rows, in plan order, read in this process."""
    for f in files:
        yield from read_rows(f.path.read_bytes(), f.format, f.name)


def make_plan(files: list[InputFile], written: set[str],
              read: Callable[[list[InputFile]], Iterable[pa.Table]] = file_rows) -> Plan:
    """Refuse, skip or keep every row; ``written`` holds the ids already in the output."""
    plan = Plan(files)
    first_seen: dict[str, tuple[str, int]] = {}
    carried: dict[str, None] = {}
    skip: dict[str, list[int]] = {}
    for table in read(files):
        columns = table.select(["source", "line", "id", "extra", "problem", "raw"]).to_pydict()
        for source, line, article_id, extra, problem, raw in zip(*columns.values(), strict=True):
            if problem is not None:
                plan.rejects.append(Reject(file=source, line=line, id=article_id,
                                           reason=problem, record=raw or ""))
                continue
            if article_id in first_seen:
                where = "{}:{}".format(*first_seen[article_id])
                plan.rejects.append(Reject(file=source, line=line, id=article_id,
                                           reason=f"duplicate id (first at {where})",
                                           record=""))
                skip.setdefault(source, []).append(line)
                continue
            first_seen[article_id] = (source, line)
            carried.update(dict.fromkeys(json.loads(extra)))
            if article_id in written:
                plan.already_written += 1
                skip.setdefault(source, []).append(line)
            else:
                plan.to_label += 1
    plan.carried = list(carried)
    plan.skip = {source: np.array(sorted(lines), dtype=np.int64) for source, lines in skip.items()}
    return plan


def clashing_columns(carried: Iterable[str]) -> list[str]:
    """Carried input columns whose names the summary table uses for its own."""
    return [name for name in carried if name in RESERVED]


def keep_to_label(rows: pa.Table, skip: dict[str, np.ndarray]) -> pa.Table:
    """The rows of ``rows`` the plan labels: well formed, not a duplicate, not yet written."""
    keep = pc.is_null(rows.column("problem")).to_numpy(zero_copy_only=False)
    sources = rows.column("source").to_numpy(zero_copy_only=False)
    lines = rows.column("line").to_numpy()
    for source in set(sources.tolist()) & skip.keys():
        mine = sources == source
        keep &= ~(mine & np.isin(lines, skip[source]))
    return rows.filter(pa.array(keep))
