"""The Ray Data engine on 2 CPUs: the same labels as ``--engine local``, workers that start
(the pool leaves room for the read tasks) and never import torch, and a Ctrl-C that a rerun
resumes without writing anything twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from archive.run import ScoreOptions, score

pytest.importorskip("ray")
# Ray Data warns about its own deprecated settings whenever it copies its context
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")

PRESSLENS = Path(sys.executable).with_name("presslens")


def test_ray_and_local_give_the_same_labels(make_archive, tmp_path: Path, local_ray,
                                            read_tables):
    archive = make_archive(30)
    local = score(ScoreOptions(input=archive, out=tmp_path / "local", engine="local",
                               batch_size=4))
    on_ray = score(ScoreOptions(input=archive, out=tmp_path / "ray", engine="ray",
                                batch_size=4, part_rows=8))
    assert on_ray.workers == 2  # one per CPU of the 2 Ray reports
    assert len(on_ray.worker_info) == 2
    assert not any(worker["torch"] for worker in on_ray.worker_info)
    assert sum(on_ray.nodes.values()) == on_ray.articles == local.articles == 30
    assert on_ray.sentences == local.sentences

    local_summary, local_sentences = read_tables(tmp_path / "local")
    ray_summary, ray_sentences = read_tables(tmp_path / "ray")
    key = ["id", "index", "target"]
    assert ray_sentences[key].equals(local_sentences[key])
    for column in ("framing", "stance", "boilerplate", "primary", "start", "end", "text"):
        assert ray_sentences[column].equals(local_sentences[column]), column
    numbers = [c for c in local_sentences if c.startswith("p_") or c.endswith("_confidence")]
    np.testing.assert_allclose(ray_sentences[numbers].to_numpy(dtype=float),
                               local_sentences[numbers].to_numpy(dtype=float), atol=2e-3)
    counts = [c for c in local_summary if c.startswith(("stance_", "sentences", "content_"))]
    assert ray_summary[["id", *counts]].equals(local_summary[["id", *counts]])
    assert ([list(t) for t in ray_summary["target_stance"]]
            == [list(t) for t in local_summary["target_stance"]])


def test_ctrl_c_stops_ray_and_a_rerun_resumes(make_archive, tmp_path: Path, read_tables,
                                              processes):
    # enough articles that the run is still labelling when its first part appears: with
    # 120, the parts came 2 s before the end, and once the signal landed after the run
    # had finished; with 480, the first part comes about 10 s before the last
    articles = 480
    archive, out = make_archive(articles), tmp_path / "out"
    command = [str(PRESSLENS), "score", str(archive), "--out", str(out), "--batch-size", "2",
               "--part-rows", "4"]
    # SIGINT back to its default in the child, as in a terminal: a shell that runs the
    # suite as a background job (`.ci/run &`) leaves it ignored, and the child inherits that
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                               env=os.environ | {"HF_HUB_OFFLINE": "1"})
    ray_processes: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while not list((out / "articles").glob("part-*.parquet")):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "no part written in 300 s"
            ray_processes |= processes.descendants([process.pid])
            time.sleep(0.2)
        ray_processes |= processes.descendants([process.pid])
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    said = " ".join(output.split())
    assert process.returncode == 130, output
    assert "run the same command again to resume" in said
    deadline = time.monotonic() + 60
    while processes.alive(ray_processes) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = processes.alive(ray_processes)
    for pid in left:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"Ray processes outlived the interrupted run: {sorted(left)}"

    partial, _ = read_tables(out)
    assert 0 < len(partial) < articles
    resumed = score(ScoreOptions(input=archive, out=out, engine="local", batch_size=4))
    assert resumed.already_written == len(partial)
    assert resumed.articles == articles - len(partial)
    summary, sentences = read_tables(out)
    assert summary["id"].is_unique and len(summary) == articles
    assert not sentences.duplicated(["id", "index", "target"]).any()
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    assert [(r["engine"], r["finished"]) for r in runs] == [("ray", False), ("local", True)]


@pytest.mark.parametrize(("failures", "connected"), [(2, True), (3, False)])
def test_a_ray_client_connection_is_tried_again(monkeypatch: pytest.MonkeyPatch,
                                                failures: int, connected: bool):
    """A Ray Client server that fails to start (seen in CI on a loaded machine) is retried;
    after three failures the user gets the error, with the count."""
    from archive import ray_cluster

    calls: list[str] = []

    def init(address: str, **_: object) -> None:
        calls.append(address)
        if len(calls) <= failures:
            raise ConnectionError("Initialization failure from server: Starting Ray client "
                                  "server failed.")

    monkeypatch.setattr(ray_cluster.ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray_cluster.ray, "init", init)
    monkeypatch.setattr(ray_cluster, "CLIENT_RETRY_S", 0.0)
    if connected:
        assert ray_cluster.connect("ray://head:10001") is True
    else:
        with pytest.raises(ConnectionError, match=r"server failed\. \(tried 3 times\)"):
            ray_cluster.connect("ray://head:10001")
    assert calls == ["ray://head:10001"] * min(failures + 1, 3)


@pytest.mark.parametrize(("rows", "batch", "workers", "blocks"), [
    (5000, 32, 2, 40),  # a large archive: blocks of at least 128 articles
    (5000, 128, 2, 40),
    (48, 8, 2, 6),  # a small one: a block per batch, up to four blocks per worker
    (3, 32, 2, 1),
])
def test_blocks_hold_a_few_batches_yet_every_worker_gets_several(rows: int, batch: int,
                                                                 workers: int, blocks: int):
    from archive.plan import Plan
    from archive.ray_engine import _blocks

    assert _blocks(Plan(files=[], to_label=rows), batch, workers) == blocks
