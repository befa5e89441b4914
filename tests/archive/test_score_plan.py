"""The plan (first of two ids wins, written articles skipped), the worker pool's size on a
2-core machine, and the output directory's parts, recovery and lock."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archive.output import ARTICLES, SENTENCES, Output, OutputError, split_tables, write_part
from archive.plan import clashing_columns, file_rows, input_files, keep_to_label, make_plan
from archive.resources import IO_CPUS, IO_TASKS, size_pool
from archive.schema import SENTENCE_SCHEMA, labelled_schema
from archive.sources import list_files


def plan_of(tmp_path: Path, files: dict[str, list[dict]], written: set[str] = frozenset()):
    for name, records in files.items():
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in records))
    found = input_files(list_files(tmp_path), tmp_path)
    return make_plan(found, set(written)), found


def test_the_first_of_two_rows_with_one_id_is_kept_and_written_ones_skipped(tmp_path: Path):
    plan, files = plan_of(tmp_path, {
        "a.jsonl": [{"id": "x", "text": "X.", "outlet": "L"}, {"id": "y", "text": "Y."},
                    {"id": "x", "text": "X again."}],
        "b.jsonl": [{"id": "y", "text": "Y again.", "date": "d"}, {"id": "z", "text": "Z."},
                    {"text": "no id"}],
    }, written={"z"})
    assert (plan.to_label, plan.already_written) == (2, 1)
    assert [(r.file, r.line, r.reason) for r in plan.rejects] == [
        ("a.jsonl", 3, "duplicate id (first at a.jsonl:1)"),
        ("b.jsonl", 1, "duplicate id (first at a.jsonl:2)"),
        ("b.jsonl", 3, "missing id"),
    ]
    assert plan.carried == ["outlet"]  # b.jsonl's "date" came only with a duplicate
    kept = [keep_to_label(t, plan.skip) for t in file_rows(files)]
    assert [(r["source"], r["line"]) for t in kept for r in t.to_pylist()] == [
        ("a.jsonl", 1), ("a.jsonl", 2)]


def test_carried_columns_may_not_take_the_summary_tables_names():
    assert clashing_columns(["outlet", "sentences", "target_stance", "date"]) == [
        "sentences", "target_stance"]


@pytest.mark.parametrize(("cpus", "workers", "threads", "expected"), [
    (2, None, None, (2, 1)),  # this machine: one single-threaded worker per core
    (2, 1, None, (1, 2)),
    (2, 2, None, (2, 1)),
    (2, None, 2, (1, 2)),
    (1, None, None, (1, 1)),
    (32, None, 4, (8, 4)),
])
def test_the_pool_always_leaves_room_for_the_read_and_write_tasks(cpus, workers, threads,
                                                                   expected):
    pool = size_pool(cpus, workers, threads)
    assert (pool.workers, pool.threads) == expected
    assert pool.workers * pool.num_cpus + IO_TASKS * IO_CPUS <= cpus + 1e-9
    assert 0 < pool.num_cpus <= pool.threads


def test_two_workers_on_two_one_cpu_nodes_fit_one_per_node():
    pool = size_pool(2)
    assert pool.num_cpus > 0.5  # two would not fit on one 1-CPU node
    assert pool.num_cpus + IO_CPUS <= 1  # each node still runs a read or a write task


def labelled(ids: list[str], source: str = "f.jsonl") -> pa.Table:
    """Labelled articles by hand: one with two sentence rows, others with one."""
    rows = []
    for k, article_id in enumerate(ids):
        sentence = {"index": 0, "start": 0, "end": 3, "text": "One", "boilerplate": False,
                    "framing": "x", "target": None, "stance": "y", "primary": True}
        rows.append({"id": article_id, "outlet": "L", "source_file": source,
                     "source_line": k + 1, "sentences": 1, "content_sentences": 1,
                     "targets": [], "target_stance": [],
                     "sentence_rows": [sentence] * (2 if k == 0 else 1)})
    return pa.Table.from_pylist(rows, schema=labelled_schema(["outlet"]))


def test_nested_sentence_rows_flatten_into_the_sentence_table():
    sentences, summary = split_tables(labelled(["a", "b", "c"]))
    assert sentences.schema == SENTENCE_SCHEMA
    assert sentences.column("id").to_pylist() == ["a", "a", "b", "c"]
    assert "sentence_rows" not in summary.column_names
    assert summary.column_names[:2] == ["id", "outlet"]


def test_a_part_is_written_whole_and_a_retry_replaces_it(tmp_path: Path):
    batch = labelled(["a", "b"])
    write_part(tmp_path, batch)
    write_part(tmp_path, batch)  # a retried write task: same articles, same part
    output = Output(tmp_path)
    assert len(output.parts(ARTICLES)) == len(output.parts(SENTENCES)) == 1
    assert output.written_ids() == {"a", "b"}
    assert not list(tmp_path.rglob("*.tmp"))


def test_recovery_drops_what_an_interrupted_write_left(tmp_path: Path):
    write_part(tmp_path, labelled(["a"]))
    write_part(tmp_path, labelled(["b"], source="g.jsonl"))
    output = Output(tmp_path)
    # a crash between a part's two renames: its sentences are in, its articles are not
    orphan = output.parts(ARTICLES)[0]
    orphan_ids = set(pq.read_table(orphan).column("id").to_pylist())
    orphan.unlink()
    (tmp_path / SENTENCES / ".part-x.parquet.1.tmp").write_text("half")
    assert output.recover() == 2
    assert len(output.parts(SENTENCES)) == len(output.parts(ARTICLES)) == 1
    assert output.written_ids() == {"a", "b"} - orphan_ids


def test_one_output_directory_takes_one_run_at_a_time(tmp_path: Path):
    first, second = Output(tmp_path), Output(tmp_path)
    with first.locked(), pytest.raises(OutputError, match="another presslens score"), \
            second.locked():
        pass
    with second.locked():
        pass
