"""Reading an archive's files: JSON Lines, CSV and Parquet rows, each with its file and line.

One parser serves both engines (Ray Data's read tasks call it through ``ray_engine``'s
datasource), so a row is accepted, refused and numbered the same way wherever it is read.
A refused row is not an error: it comes out with ``problem`` set, and the job goes on.
Ray Data's own ``read_json``/``read_csv`` cannot do this: they number no lines, and one bad
line (or a number where other rows have a string) fails the whole file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pyarrow as pa

from archive.schema import ROW_SCHEMA

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
           ".parquet": "parquet"}
CHUNK_ROWS = 256
# csv's default field limit (128 KiB) is shorter than a long article.
CSV_FIELD_LIMIT = 64 * 2**20


class InputError(ValueError):
    """INPUT names nothing presslens can read."""


def file_format(path: Path | str) -> str | None:
    return FORMATS.get(Path(path).suffix.lower())


def list_files(path: Path) -> list[Path]:
    """INPUT itself, or the readable files under it (hidden ones skipped), in a stable order:
    the order decides which of two rows with one id is kept."""
    if path.is_file():
        if file_format(path) is None:
            raise InputError(f"{path}: not JSON Lines, CSV or Parquet "
                             f"(suffixes: {', '.join(FORMATS)})")
        return [path]
    if not path.is_dir():
        raise InputError(f"{path} does not exist")
    files = sorted(
        p for p in path.rglob("*")
        if p.is_file() and file_format(p)
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if not files:
        raise InputError(f"{path} holds no .jsonl, .json, .ndjson, .csv or .parquet file")
    return files


def display_name(path: Path, root: Path) -> str:
    """How reports and the tables name a file: relative to INPUT when INPUT is a folder."""
    return path.name if root.is_file() else path.relative_to(root).as_posix()


@dataclass(frozen=True, slots=True)
class _Bad:
    """A row refused before its fields are looked at (unparseable, wrong shape)."""

    reason: str
    raw: str


class _UnreadableError(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def read_rows(data: bytes | pa.Buffer, fmt: str, source: str,
              chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """Every row of one file as ``ROW_SCHEMA`` tables of up to ``chunk_rows`` rows; a file
    that cannot be read any further ends with one refused row saying why and where."""
    rows = _Rows(source)
    records = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}[fmt]
    try:
        for line, record in records(data, chunk_rows):
            rows.add(line, record, csv_values=fmt == "csv")
            if len(rows) >= chunk_rows:
                yield rows.table()
    except _UnreadableError as problem:
        rows.refuse(problem.line, f"cannot read the file: {problem.reason}", None, "")
    if len(rows):
        yield rows.table()


def _jsonl(data: bytes | pa.Buffer, _: int) -> Iterator[tuple[int, dict[str, Any] | _Bad]]:
    for number, raw in enumerate(io.BytesIO(data), start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield number, _Bad(f"not UTF-8 ({error.reason} at byte {error.start})",
                               raw.decode("utf-8", "replace").rstrip("\r\n"))
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield number, _Bad(f"invalid JSON: {error.msg} (column {error.colno})",
                               text.rstrip("\r\n"))
            continue
        if not isinstance(record, dict):
            yield number, _Bad(f"a JSON object was expected, not {type(record).__name__}",
                               text.rstrip("\r\n"))
            continue
        yield number, record


def _csv(data: bytes | pa.Buffer, _: int) -> Iterator[tuple[int, dict[str, Any] | _Bad]]:
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    handle = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(handle)
    last = 0
    try:
        header = next(reader, None)
        if header is None:
            return
        _require_columns(header, 1)
        last = reader.line_num
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                yield start, _Bad(f"{len(row)} fields where the header has {len(header)}",
                                  json.dumps(row, ensure_ascii=False))
                continue
            yield start, dict(zip(header, row, strict=True))
    except (UnicodeDecodeError, csv.Error) as error:
        raise _UnreadableError(last + 1, str(error)) from error


def _parquet(data: bytes | pa.Buffer, chunk_rows: int
             ) -> Iterator[tuple[int, dict[str, Any] | _Bad]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        _require_columns(parquet.schema_arrow.names, 0)
        number = 0
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            for record in batch.to_pylist():
                number += 1
                yield number, record
    except (pa.ArrowException, OSError) as error:
        raise _UnreadableError(0, str(error)) from error


def _require_columns(names: list[str], line: int) -> None:
    missing = [name for name in ("id", "text") if name not in names]
    if missing:
        raise _UnreadableError(line, f"no {' or '.join(map(repr, missing))} column "
                                 f"(columns: {', '.join(names)})")


class _Rows:
    """``ROW_SCHEMA`` columns for one file, filled row by row."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.columns: dict[str, list[Any]] = {name: [] for name in ROW_SCHEMA.names}

    def __len__(self) -> int:
        return len(self.columns["line"])

    def add(self, line: int, record: dict[str, Any] | _Bad, csv_values: bool) -> None:
        if isinstance(record, _Bad):
            self.refuse(line, record.reason, None, record.raw)
            return
        problem, article_id, text, targets = _check(record)
        if problem:
            self.refuse(line, problem, article_id, _dump(record))
            return
        extra = {str(k): _carried(v, csv_values) for k, v in record.items()
                 if k not in ("id", "text", "targets") and str(k).strip()}
        self._append(line, article_id, text, targets,
                     json.dumps(extra, ensure_ascii=False), None, None)

    def refuse(self, line: int, reason: str, article_id: str | None, raw: str) -> None:
        self._append(line, article_id, None, [], None, reason, raw)

    def _append(self, *values: Any) -> None:
        for name, value in zip(ROW_SCHEMA.names, (self.source, *values), strict=True):
            self.columns[name].append(value)

    def table(self) -> pa.Table:
        table = pa.table(self.columns, schema=ROW_SCHEMA)
        self.columns = {name: [] for name in ROW_SCHEMA.names}
        return table


def _check(record: dict[str, Any]) -> tuple[str | None, str | None, str | None, list[str]]:
    """(problem, id, text, targets): the problem is None for a row presslens can label."""
    raw_id, text = record.get("id"), record.get("text")
    article_id = None
    if isinstance(raw_id, str) and raw_id.strip():
        article_id = raw_id
    elif isinstance(raw_id, int) and not isinstance(raw_id, bool):
        article_id = str(raw_id)
    if article_id is None:
        missing = raw_id is None or (isinstance(raw_id, str) and not raw_id.strip())
        return ("missing id" if missing else
                f"id must be a string or an integer, not {type(raw_id).__name__}"), None, None, []
    if text is None:
        return "missing text", article_id, None, []
    if not isinstance(text, str):
        return f"text must be a string, not {type(text).__name__}", article_id, None, []
    if not text.strip():
        return "empty text", article_id, None, []
    targets = _targets(record.get("targets"))
    if targets is None:
        return ("targets must be a list of strings or one ';'-separated string",
                article_id, None, [])
    return None, article_id, text, targets


def _targets(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        return None
    return list(dict.fromkeys(t.strip() for t in value if t.strip()))


def _carried(value: Any, csv_values: bool) -> str | None:
    """A carried column's value as text: what the input said, in the form it said it."""
    if value is None or (csv_values and value == ""):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, int | float | list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _dump(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)
