"""The output directory, written so that a crash loses only the parts in flight and a rerun
writes nothing twice.

Layout::

    OUT/articles/part-<key>.parquet    the per-article summary table
    OUT/sentences/part-<key>.parquet   the sentence table (same key: same articles)
    OUT/rejects.jsonl                  rows not labelled, with file and line
    OUT/manifest.json                  model, carried columns, runs

A part is written to a hidden temporary file and renamed into place, its sentences first and
its articles last: an article is written once its articles part exists. ``recover`` removes
what an interrupted run left (temporary files, sentence parts whose articles part never
came), and ``written_ids`` is then exactly the set of articles a rerun must skip. A part's
key is a hash of its articles' file and line, so a retried write replaces, not repeats.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from archive.manifest import Manifest, Reject
from archive.schema import SENTENCE_SCHEMA

ARTICLES, SENTENCES = "articles", "sentences"
MANIFEST, REJECTS, LOCK = "manifest.json", "rejects.jsonl", ".lock"
COMPRESSION = "zstd"


class OutputError(RuntimeError):
    """The output directory cannot take this run (locked, or written by another model)."""


@dataclass(frozen=True, slots=True)
class PartStats:
    articles: int
    sentences: int


def split_tables(labelled: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(sentence table, summary table) of labelled articles: the nested sentence rows
    flattened, each with its article's id."""
    nested = labelled.column("sentence_rows").combine_chunks()
    flat = pc.list_flatten(nested)
    ids = labelled.column("id").take(pc.list_parent_indices(nested))
    sentences = pa.Table.from_arrays([ids, *flat.flatten()], schema=SENTENCE_SCHEMA)
    return sentences, labelled.drop_columns(["sentence_rows"])


def part_key(labelled: pa.Table) -> str:
    digest = hashlib.sha256()
    for source, line in zip(labelled.column("source_file").to_pylist(),
                            labelled.column("source_line").to_pylist(), strict=True):
        digest.update(f"{source}\0{line}\n".encode())
    return digest.hexdigest()[:20]


def write_part(root: Path, labelled: pa.Table) -> PartStats:
    """Write labelled articles as one part of each table; sentences first, articles last."""
    import pyarrow.parquet as pq

    sentences, summary = split_tables(labelled)
    name = f"part-{part_key(labelled)}.parquet"
    for table, folder in ((sentences, SENTENCES), (summary, ARTICLES)):
        final = root / folder / name
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{name}.{os.getpid()}.tmp")
        pq.write_table(table, temporary, compression=COMPRESSION)
        os.replace(temporary, final)
    return PartStats(summary.num_rows, sentences.num_rows)


class Output:
    """One ``--out`` directory: its lock, its recovery, what it holds."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory for one run: two runs into one directory would both write."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise OutputError(f"another presslens score is writing to {self.root}") from error
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def parts(self, folder: str) -> list[Path]:
        return sorted((self.root / folder).glob("part-*.parquet"))

    def recover(self) -> int:
        """Remove an interrupted run's leftovers; the number of files removed."""
        removed = 0
        for folder in (ARTICLES, SENTENCES):
            for leftover in (self.root / folder).glob(".part-*.tmp"):
                leftover.unlink()
                removed += 1
        committed = {p.name for p in self.parts(ARTICLES)}
        for orphan in self.parts(SENTENCES):
            if orphan.name not in committed:
                orphan.unlink()
                removed += 1
        return removed

    def written_ids(self) -> set[str]:
        import pyarrow.parquet as pq

        ids: set[str] = set()
        for part in self.parts(ARTICLES):
            ids.update(pq.read_table(part, columns=["id"]).column("id").to_pylist())
        return ids

    def read_manifest(self) -> Manifest | None:
        path = self.root / MANIFEST
        return Manifest.model_validate_json(path.read_text("utf-8")) if path.is_file() else None

    def write_manifest(self, manifest: Manifest) -> None:
        self._replace(MANIFEST, manifest.model_dump_json(indent=2) + "\n")

    def write_rejects(self, rejects: Sequence[Reject]) -> Path:
        """Every reject of this input (a rerun finds the same ones and rewrites the file)."""
        self._replace(REJECTS, "".join(r.model_dump_json() + "\n" for r in rejects))
        return self.root / REJECTS

    def _replace(self, name: str, text: str) -> None:
        temporary = self.root / f".{name}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.root / name)
