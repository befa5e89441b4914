"""Reading an archive: every row numbered by its file's line, malformed rows flagged with a
reason instead of failing the file, carried columns kept as the input wrote them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archive.schema import ROW_SCHEMA
from archive.sources import InputError, list_files, read_rows


def rows(data: bytes, fmt: str, chunk_rows: int = 256) -> list[dict]:
    tables = list(read_rows(data, fmt, "f", chunk_rows))
    assert all(t.schema == ROW_SCHEMA for t in tables)
    return [row for t in tables for row in t.to_pylist()]


def test_json_lines_are_numbered_and_malformed_lines_refused() -> None:
    lines = [
        {"id": "a", "text": "One.", "targets": ["X", " X ", "Y", ""], "outlet": "L",
         "n": 3, "flag": True, "tags": ["p", "q"], "none": None},
        "",  # blank lines are skipped, not refused
        {"id": 7, "text": "An integer id is kept as text."},
        {"id": True, "text": "A boolean id is not an id."},
        {"id": "c", "text": ["not", "a", "string"]},
        {"id": "d", "text": "Targets of the wrong type.", "targets": [1, 2]},
        {"id": "e", "text": "Targets as one string.", "targets": "X; Y"},
        "[1, 2]",
        "{broken",
    ]
    data = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines).encode()
    got = rows(b"\xef\xbb\xbf" + data, "jsonl")
    assert [r["line"] for r in got] == [1, 3, 4, 5, 6, 7, 8, 9]
    first = got[0]
    assert (first["id"], first["text"], first["targets"], first["problem"]) == (
        "a", "One.", ["X", "Y"], None)
    assert json.loads(first["extra"]) == {"outlet": "L", "n": "3", "flag": "true",
                                          "tags": '["p", "q"]', "none": None}
    assert got[1]["id"] == "7" and got[1]["problem"] is None
    problems = {r["line"]: r["problem"] for r in got if r["problem"]}
    assert problems[4].startswith("id must be a string or an integer")
    assert problems[5] == "text must be a string, not list"
    assert problems[6].startswith("targets must be")
    assert problems[8].startswith("a JSON object was expected")
    assert problems[9].startswith("invalid JSON")
    assert got[5]["targets"] == ["X", "Y"]
    assert json.loads(next(r for r in got if r["line"] == 5)["raw"])["id"] == "c"
    assert next(r for r in got if r["line"] == 9)["raw"] == "{broken"


def test_csv_lines_follow_quoted_newlines_and_bad_rows_are_refused() -> None:
    data = (b'id,text,targets,outlet\n'
            b'a,"First line\nsecond line",X;Y,\n'
            b'b,Plain.,,Wire\n'
            b'c,Too,many,fields,here\n'
            b'\n'
            b'd,  ,,Wire\n'
            b'e,Last.,,Wire\n')
    got = rows(data, "csv")
    assert [(r["line"], r["id"]) for r in got] == [(2, "a"), (4, "b"), (5, None), (7, "d"),
                                                   (8, "e")]
    assert got[0]["targets"] == ["X", "Y"]
    assert json.loads(got[0]["extra"]) == {"outlet": None}  # an empty cell is null
    assert json.loads(got[1]["extra"]) == {"outlet": "Wire"}
    assert got[2]["problem"] == "5 fields where the header has 4"
    assert got[3]["problem"] == "empty text"


def test_a_file_without_a_text_column_is_one_reject() -> None:
    got = rows(b"id,body\n1,x\n2,y\n", "csv")
    assert len(got) == 1
    assert got[0]["line"] == 1
    assert "no 'text' column" in got[0]["problem"]


def test_parquet_rows_are_numbered_and_typed_columns_carried_as_text(tmp_path: Path) -> None:
    table = pa.table({
        "id": ["p1", None, "p3"],
        "text": ["One.", "Two.", ""],
        "targets": [["X"], [], None],
        "published": [dt.date(2025, 1, 2), dt.date(2025, 1, 3), None],
        "words": [10, 20, 30],
    })
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    got = rows(path.read_bytes(), "parquet", chunk_rows=2)
    assert [r["line"] for r in got] == [1, 2, 3]
    assert json.loads(got[0]["extra"]) == {"published": "2025-01-02", "words": "10"}
    assert [r["problem"] for r in got] == [None, "missing id", "empty text"]
    broken = rows(b"PAR1 not really", "parquet")
    assert len(broken) == 1 and broken[0]["problem"].startswith("cannot read the file")


def test_a_folder_is_listed_in_order_without_hidden_or_foreign_files(tmp_path: Path) -> None:
    for name in ("b.csv", "a.jsonl", "sub/c.parquet", ".hidden.jsonl", "_tmp/d.csv",
                 "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in list_files(tmp_path)] == [
        "a.jsonl", "b.csv", "sub/c.parquet"]
    with pytest.raises(InputError, match="not JSON Lines, CSV or Parquet"):
        list_files(tmp_path / "notes.txt")
    with pytest.raises(InputError, match="does not exist"):
        list_files(tmp_path / "missing")
