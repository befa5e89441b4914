"""Read and validate labelled CSVs before any expensive work.

Every problem is collected (not just the first) and named by file, line and column, so a
user fixes a CSV in one pass. Nothing is embedded until the data is known to be good.
Reading says what it is doing, in plain lines on stderr (``log``), so a run on a large
file is not silent wherever its output goes.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from model.encoder import file_sha256
from model.labels import HEADS, LABELS
from training.annotation_keys import normalise

TEXT = "text"
TARGET = "target"
STORY = "story"
MIN_PER_CLASS = 8
KNOWN_SOURCES = {
    "newsmtsc_train.csv": "NewsMTSC (Hamborg & Donnay, EACL 2021), MIT licence",
}
FIELD_LIMIT = 10_000_000  # set for each file read: other modules change csv's global limit
PROGRESS_ROWS = 50_000  # a progress line every this many rows
BOM = "\ufeff"
Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class DataError(ValueError):
    """Invalid training data; ``problems`` lists every issue found, each fully located."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid training data:\n  " + "\n  ".join(problems))


@dataclass(frozen=True, slots=True)
class Row:
    file: str
    line: int
    text: str
    target: str | None
    labels: dict[str, str]
    story: str | None = None


def story_key(row: Row) -> str:
    """Story when known (so no story is on both sides of a fold), else the text itself."""
    return row.story or hashlib.sha1(row.text.encode()).hexdigest()


def text_key(text: str) -> str:
    """A text as duplicates are found: whitespace folded, case ignored."""
    return normalise(text).casefold()


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    sha256: str
    rows: int
    source: str


@dataclass(frozen=True, slots=True)
class Dataset:
    rows: list[Row]
    files: list[SourceFile]

    def heads(self) -> list[str]:
        """The heads this data can train: those with at least one labelled row."""
        return [h for h in HEADS if any(h in r.labels for r in self.rows)]

    def for_head(self, head: str) -> list[Row]:
        """Rows labelled for ``head``; framing is per text, so its duplicates collapse."""
        rows = [r for r in self.rows if head in r.labels]
        if head == "stance":
            return rows
        unique: dict[str, Row] = {}
        for row in rows:
            unique.setdefault(text_key(row.text), row)
        return list(unique.values())


def load(paths: list[Path], for_training: bool = True, log: Log = _stderr) -> Dataset:
    """Read every file, validate everything, and raise one DataError listing all problems.

    Class sizes are only checked ``for_training``: a small test set is still a test set.
    """
    problems: list[str] = []
    rows: list[Row] = []
    files: list[SourceFile] = []
    for path in paths:
        file_rows, file_problems = _read_file(path, log)
        problems += file_problems
        rows += file_rows
        if path.is_file() and not file_problems:
            files.append(SourceFile(str(path), file_sha256(path), len(file_rows), _source(path)))
    # conflicts are checked whatever else is wrong, so one run reports every problem
    if len(rows) >= PROGRESS_ROWS:
        log(f"checking {len(rows)} rows for conflicting labels")
    problems += _conflicts(rows)
    if not problems:
        dataset = Dataset(rows, files)
        if not dataset.heads():
            problems.append(
                "no label column in any file: add at least one of "
                + ", ".join(repr(h) for h in HEADS)
            )
        if for_training:
            problems += _class_sizes(dataset)
    if problems:
        raise DataError(problems)
    return Dataset(rows, files)


def _read_file(path: Path, log: Log = _stderr) -> tuple[list[Row], list[str]]:
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.csv"))
        hint = f" (it holds {', '.join(inside[:5])}{' …' if len(inside) > 5 else ''}: " \
               "pass each with --data)" if inside else ""
        return [], [f"{path}: is a directory, not a CSV file{hint}"]
    if not path.is_file():
        return [], [f"{path}: file not found"]
    try:
        raw = path.read_bytes()
    except OSError as error:
        return [], [f"{path}: cannot be read: {error.strerror or error}"]
    log(f"reading {path} ({len(raw) / 1e6:.1f} MB)")
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return [], [f"{path}, line {line}: not valid UTF-8 (byte {error.start})"]
    lines = content.removeprefix(BOM).splitlines(keepends=True)  # a BOM, as predict allows
    previous = csv.field_size_limit(FIELD_LIMIT)
    try:
        return _read_records(path, lines, log)
    finally:
        csv.field_size_limit(previous)


def _read_records(path: Path, lines: list[str], log: Log) -> tuple[list[Row], list[str]]:
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        return [], [_csv_error(path, 1, error)]
    if reader.line_num > 1 and _unterminated(lines, 1):
        return [], [_open_quote(path, 1)]
    columns = [c.strip() for c in header]
    repeated = [c for c, n in Counter(columns).items() if n > 1]
    if repeated:
        return [], [f"{path}, line 1: column {c!r} appears {columns.count(c)} times (columns "
                    f"{', '.join(str(i + 1) for i, name in enumerate(columns) if name == c)}); "
                    "only one may keep the name, or the last would silently win"
                    for c in repeated]
    if TEXT not in columns:
        found = ", ".join(repr(c) for c in columns) or "none"
        return [], [f"{path}: missing required column 'text' (columns found: {found})"]
    reader.fieldnames = columns
    rows: list[Row] = []
    empty: list[int] = []
    unknown: dict[str, list[str]] = defaultdict(list)
    start = reader.line_num + 1  # the line the next record starts on
    last = read = 0  # the line the last record read starts on; records read
    records = iter(reader)
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as error:
            return [], [_csv_error(path, start, error)]
        last, start = start, reader.line_num + 1
        line = reader.line_num  # rows are numbered by their last line (report_groups reads so)
        read += 1
        if read % PROGRESS_ROWS == 0:
            log(f"{path}: {read} rows read")
        text = (record.get(TEXT) or "").strip()
        if not text:
            empty.append(line)
            continue
        labels = {}
        for head in HEADS:
            value = (record.get(head) or "").strip()
            if not value:
                continue
            if value not in LABELS[head]:
                unknown[head].append(f"line {line} ({value!r})")
            labels[head] = value
        target = (record.get(TARGET) or "").strip() or None
        rows.append(Row(str(path), line, text, target, labels, record.get(STORY) or None))
    if last and reader.line_num > last and _unterminated(lines, last):
        return [], [_open_quote(path, last)]
    if read >= PROGRESS_ROWS:
        log(f"{path}: {read} rows read in all")
    problems = []
    if empty:
        problems.append(f"{path}, column 'text': empty text on {_lines(empty)}")
    for head, where in unknown.items():
        allowed = ", ".join(LABELS[head])
        problems.append(
            f"{path}, column {head!r}: unknown label on {len(where)} row(s): "
            f"{', '.join(where[:20])}{' …' if len(where) > 20 else ''} (allowed: {allowed})"
        )
    return rows, problems


def _unterminated(lines: list[str], start: int) -> bool:
    """Whether a quote opened in the record starting at line ``start`` is never closed: the
    lenient reader then takes the rest of the file as one field, silently."""
    reader = csv.reader(lines[start - 1 :], strict=True)
    try:
        next(reader, None)
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _open_quote(path: Path, line: int) -> str:
    return (f"{path}, line {line}: a quote (\") opened in this record is never closed, so the "
            "rest of the file would be read as one field; close it, or double a quote that "
            "belongs to the text (\"\")")


def _csv_error(path: Path, line: int, error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return (f"{path}, line {line}: a field is longer than {FIELD_LIMIT} characters, the "
                "most one CSV field may hold (unless the text really is that long, a quote "
                "opened in this record is never closed)")
    return f"{path}, line {line}: not valid CSV: {error}"


def _conflicts(rows: list[Row]) -> list[str]:
    """The same text (and target, for stance) labelled two different ways."""
    problems = []
    for head in HEADS:
        seen: dict[tuple[str, str | None], list[Row]] = defaultdict(list)
        for row in rows:
            if head in row.labels:
                key_target = row.target.casefold() if head == "stance" and row.target else None
                seen[(text_key(row.text), key_target)].append(row)
        for group in seen.values():
            values = {r.labels[head] for r in group}
            if len(values) > 1:
                where = "; ".join(f"{r.file} line {r.line}: {r.labels[head]}" for r in group)
                problems.append(f"conflicting {head!r} labels for the same text: {where}")
    return problems


def _class_sizes(dataset: Dataset) -> list[str]:
    problems = []
    for head in dataset.heads():
        counts = Counter(r.labels[head] for r in dataset.for_head(head))
        for label in LABELS[head]:
            if counts[label] < MIN_PER_CLASS:
                problems.append(
                    f"column {head!r}: class {label!r} has {counts[label]} example(s); "
                    f"at least {MIN_PER_CLASS} are needed to train and calibrate the head"
                )
    return problems


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:20])
    return f"line{'s' if len(lines) > 1 else ''} {shown}{' …' if len(lines) > 20 else ''}"


def _source(path: Path) -> str:
    if path.name in KNOWN_SOURCES:
        return KNOWN_SOURCES[path.name]
    if "training/data" in path.resolve().as_posix():
        return "presslens corpus (written for this project per LABELS.md)"
    return "user-supplied"
