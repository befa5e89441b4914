"""The Ray Data engine: read tasks parse the files, an actor pool labels, write tasks write.

    read_datasource(ArticleFiles, override_num_blocks) ─▶ map_batches(keep_to_label)
        ─▶ map_batches(Labeller, ActorPoolStrategy(size=workers), num_cpus=...)
        ─▶ write_datasink(ArchiveSink)

``Labeller.__init__`` loads the model once per worker, on the torch-free encoder, with as
many threads as the worker's share of CPUs (``resources.size_pool``). Without an address,
Ray starts here with a small object store and stops when the run ends; with one
(``ray://host:10001``, ``host:6379`` or ``auto``) the same pipeline runs on that cluster
(``archive.ray_cluster.connect`` joins it), where INPUT, --out and the model directory must
be paths every node sees. Ray Data's
executor cannot run in a Ray Client process, so for ``ray://`` it runs in a task on the
cluster (``execute_on_cluster``) while this process draws the progress.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import ray
from ray.data import ActorPoolStrategy, DataContext
from ray.data.block import Block, BlockAccessor
from ray.data.datasource import Datasink, FileBasedDatasource

from archive.engine import EngineResult, Progress, sentence_count
from archive.labelling import label_rows
from archive.output import write_part
from archive.plan import InputFile, Plan, keep_to_label
from archive.resources import IO_CPUS, Pool, size_pool
from archive.sources import read_rows

POLL_S = 0.5
ACTOR_START_TIMEOUT_S = 900
MAX_BLOCKS = 20_000
MIN_BLOCK_ROWS = 128  # a block a worker takes holds at least this many articles
BLOCKS_PER_WORKER = 4  # but small inputs still make this many blocks per worker


class ArticleFiles(FileBasedDatasource):
    """Ray Data's file reader with ``sources``' parser: one read task per group of files,
    each row with its file and line, malformed rows flagged rather than failing the file."""

    def __init__(self, files: list[InputFile]) -> None:
        super().__init__([str(f.path) for f in files])
        self._files = {os.path.normpath(f.path): (f.name, f.format) for f in files}

    def _read_stream(self, f: pa.NativeFile, path: str) -> Iterator[Block]:
        name, fmt = self._files[os.path.normpath(path)]
        yield from read_rows(f.read_buffer(), fmt, name)


_SKIPS: dict[str, dict[str, np.ndarray]] = {}


def keep_planned(rows: pa.Table, skip: ray.ObjectRef) -> pa.Table:
    """``plan.keep_to_label`` with the plan's skip lists fetched once per worker process
    (Ray Data hands ``fn_args`` over as they are, object refs unresolved)."""
    key = skip.hex()
    if key not in _SKIPS:
        _SKIPS.clear()
        _SKIPS[key] = ray.get(skip)
    return keep_to_label(rows, _SKIPS[key])


@ray.remote(num_cpus=0)
class Monitor:
    """Counts what the workers labelled, for the progress bar and the per-node report."""

    def __init__(self) -> None:
        self.articles = self.sentences = 0
        self.nodes: Counter[str] = Counter()
        self.workers: list[dict[str, Any]] = []

    def hello(self, info: dict[str, Any]) -> None:
        self.workers.append(info)

    def labelled(self, node: str, articles: int, sentences: int) -> None:
        self.articles += articles
        self.sentences += sentences
        self.nodes[node] += articles

    def report(self) -> dict[str, Any]:
        return {"articles": self.articles, "sentences": self.sentences,
                "nodes": dict(self.nodes), "workers": self.workers}


class Labeller:
    """One labelling worker: the model loaded once, then batch after batch."""

    def __init__(self, model_dir: str | None, backend: str, threads: int, version: str,
                 carried: list[str], monitor: Any) -> None:
        os.environ["PRESSLENS_THREADS"] = str(threads)
        from model.predict import Presslens
        from model.settings import core_settings

        core_settings.cache_clear()
        self.model = Presslens.load(model_dir, backend)
        if self.model.card.version != version:
            raise RuntimeError(f"this node's model is version {self.model.card.version}, the "
                               f"driver's {version}: install the same model on every node")
        self.carried, self.monitor = carried, monitor
        self.node = ray.get_runtime_context().get_node_id()
        monitor.hello.remote({"node": self.node, "pid": os.getpid(), "threads": threads,
                              "backend": backend, "torch": "torch" in sys.modules})

    def __call__(self, rows: pa.Table) -> pa.Table:
        labelled = label_rows(self.model, rows, self.carried)
        self.monitor.labelled.remote(self.node, labelled.num_rows, sentence_count(labelled))
        return labelled


class ArchiveSink(Datasink[dict[str, int]]):
    """Writes each bundle of labelled articles as one part of both tables (``output``)."""

    def __init__(self, root: Path, part_rows: int) -> None:
        self.root, self.part_rows = str(root), part_rows
        self.written = {"articles": 0, "sentences": 0}

    @property
    def min_rows_per_write(self) -> int:
        return self.part_rows

    def write(self, blocks: Iterable[Block], ctx: Any) -> dict[str, int]:
        tables = [BlockAccessor.for_block(b).to_arrow() for b in blocks]
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return {"articles": 0, "sentences": 0}
        stats = write_part(Path(self.root), pa.concat_tables(tables))
        return {"articles": stats.articles, "sentences": stats.sentences}

    def on_write_complete(self, write_result: Any) -> None:
        for returned in write_result.write_returns:
            for key in self.written:
                self.written[key] += returned[key]


@dataclass(frozen=True)
class Job:
    """What the pipeline needs, in one picklable value (it may run in a task on the cluster)."""

    plan: Plan
    root: str
    model_dir: str | None
    backend: str
    version: str
    batch_size: int
    part_rows: int
    pool: Pool


def execute(job: Job, monitor: Any) -> dict[str, int]:
    """Build and run the pipeline from this process; the articles and sentence rows written."""
    context = DataContext.get_current()
    context.enable_progress_bars = False  # the CLI draws its own, from ``monitor``
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    # Start labelling once every worker has its model, so that all of them share the work;
    # and a pool the cluster cannot place fails with Ray's "not enough resources" error
    # after this long instead of waiting for ever.
    context.wait_for_min_actors_s = ACTOR_START_TIMEOUT_S
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "disabled"
    skip = ray.put(job.plan.skip)
    pool = job.pool
    dataset = (
        # One read task per file, its output cut into blocks of a batch or more: a block goes
        # to one worker, so a large file must not stay one block. (Ray Data's streaming
        # repartition would do it too, but its tasks ask for a whole CPU, which the pool
        # leaves to no node.)
        ray.data.read_datasource(ArticleFiles(job.plan.files), num_cpus=IO_CPUS,
                                 override_num_blocks=_blocks(job.plan, job.batch_size,
                                                             pool.workers))
        .map_batches(keep_planned, fn_args=(skip,), batch_format="pyarrow", num_cpus=IO_CPUS)
        .map_batches(
            Labeller,
            fn_constructor_args=(job.model_dir, job.backend, pool.threads, job.version,
                                 job.plan.carried, monitor),
            batch_size=job.batch_size, batch_format="pyarrow", num_cpus=pool.num_cpus,
            # One block in flight per worker: Ray Data otherwise queues up to four on the
            # worker beside the data while another node's worker sits idle. Labelling is
            # CPU-bound; what locality saves is moving a batch of text, a few KB.
            compute=ActorPoolStrategy(size=pool.workers, max_tasks_in_flight_per_actor=1),
        )
    )
    sink = ArchiveSink(Path(job.root), job.part_rows)
    dataset.write_datasink(sink, ray_remote_args={"num_cpus": IO_CPUS})
    return sink.written


def _blocks(plan: Plan, batch_size: int, workers: int) -> int:
    """Blocks to read into: a batch each, and at least MIN_BLOCK_ROWS articles, as each
    block costs a task round trip (on 2 cores, batches of 32: 56 articles/s in blocks of
    128, 54 in blocks of 32); yet enough blocks that every worker gets several."""
    rows = plan.to_label + plan.already_written + len(plan.rejects)
    by_size = math.ceil(rows / max(batch_size, MIN_BLOCK_ROWS))
    by_workers = min(math.ceil(rows / batch_size), workers * BLOCKS_PER_WORKER)
    return min(max(1, by_size, by_workers), MAX_BLOCKS)


# Ray Data's executor cannot run in a Ray Client process; for ``ray://`` it runs here.
execute_on_cluster = ray.remote(num_cpus=0, max_retries=0)(execute)


def run_ray(plan: Plan, root: Path, *, model_dir: Path | None, backend: str, version: str,
            batch_size: int, part_rows: int, workers: int | None, cpus_per_worker: int | None,
            on_progress: Progress, announce: Callable[[str], None]) -> EngineResult:
    """Label ``plan`` on the connected Ray cluster (``connect`` first)."""
    cpus = float(ray.cluster_resources().get("CPU", 0))
    pool = size_pool(cpus, workers, cpus_per_worker)
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    announce(f"Ray {ray.__version__}: {nodes} node(s), {cpus:g} CPUs; {pool.workers} "
             f"worker(s) × {pool.threads} thread(s), each asking for {pool.num_cpus} CPU")
    job = Job(plan, str(root), str(model_dir) if model_dir else None, backend, version,
              batch_size, part_rows, pool)
    monitor = Monitor.remote()  # type: ignore[attr-defined]
    if ray.util.client.ray.is_connected():
        written = _wait_remote(execute_on_cluster.remote(job, monitor), monitor, on_progress)
    else:
        written = _wait_thread(job, monitor, on_progress)
    report = ray.get(monitor.report.remote())
    on_progress(report["articles"], report["sentences"])
    return EngineResult(written["articles"], written["sentences"], pool.workers,
                        report["nodes"], report["workers"])


def _wait_thread(job: Job, monitor: Any, on_progress: Progress) -> dict[str, int]:
    """``execute`` in a thread of this process, the progress polled meanwhile."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["written"] = execute(job, monitor)
        except BaseException as error:  # re-raised in the calling thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="presslens-score-ray", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(POLL_S)
        _report_progress(monitor, on_progress)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["written"]


def _wait_remote(done: ray.ObjectRef, monitor: Any, on_progress: Progress) -> dict[str, int]:
    try:
        while not ray.wait([done], timeout=POLL_S)[0]:
            _report_progress(monitor, on_progress)
    except KeyboardInterrupt:
        ray.cancel(done, force=True)
        raise
    return ray.get(done)


def _report_progress(monitor: Any, on_progress: Progress) -> None:
    try:
        report = ray.get(monitor.report.remote(), timeout=5)
    except ray.exceptions.GetTimeoutError:
        return
    on_progress(report["articles"], report["sentences"])
