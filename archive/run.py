"""``score``: one run from INPUT to the output directory, on either engine.

Lock the directory, clear what an interrupted run left, plan (rejects, duplicates, what is
already written), write the rejects, label what is left, record the run in the manifest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from archive.engine import EngineResult, Progress
from archive.manifest import Manifest, RunRecord
from archive.output import ARTICLES, Output, OutputError
from archive.plan import Plan, clashing_columns, input_files, make_plan
from archive.sources import InputError, list_files

if TYPE_CHECKING:
    from model.card import ModelCard

Engine = Literal["ray", "local"]
DEFAULT_BATCH = 128  # on 2 cores, local: 64 articles/s in calls of 128, 56 in calls of 32
DEFAULT_PART_ROWS = 1000


class ScoreError(RuntimeError):
    """A run that cannot start, said so in words the user can act on."""


class ScoreOptions(BaseModel):
    """Everything ``presslens score`` can be told."""

    input: Path
    out: Path
    engine: Engine = "ray"
    address: str | None = Field(None, description="ray://host:10001, host:port or auto; "
                                                  "unset: start Ray on this machine")
    workers: int | None = Field(None, ge=1)
    cpus_per_worker: int | None = Field(None, ge=1)
    batch_size: int = Field(DEFAULT_BATCH, ge=1, description="articles per labelling call")
    part_rows: int = Field(DEFAULT_PART_ROWS, ge=1, description="articles per Parquet part")
    model_dir: Path | None = None
    backend: str | None = None


class RunSummary(BaseModel):
    """What a run did, for the closing report and the benchmark."""

    out: Path
    engine: Engine
    articles: int
    sentences: int
    rejects: int
    already_written: int
    recovered_files: int
    workers: int
    nodes: dict[str, int]
    worker_info: list[dict[str, object]]
    wall_s: float
    engine_s: float


def _noop(*_: object) -> None:
    return None


def score(options: ScoreOptions, on_progress: Progress = _noop,
          announce: Callable[[str], None] = _noop,
          on_plan: Callable[[Plan], None] = _noop) -> RunSummary:
    """Run ``options``; ``on_plan`` sees the plan (total, rejects) before labelling starts."""
    clock, started = time.perf_counter(), datetime.now(UTC)
    root, out = options.input.resolve(), options.out.resolve()
    try:
        # the output folder may sit inside INPUT: its parts are not input
        files = input_files([p for p in list_files(root) if not p.is_relative_to(out)], root)
    except InputError as error:
        raise ScoreError(str(error)) from error
    if not files:
        raise ScoreError(f"{options.input} holds nothing to score outside {options.out}")
    model_dir, backend, card = _model(options)
    output = Output(options.out)
    try:
        with output.locked():
            recovered = output.recover()
            if recovered:
                announce(f"removed {recovered} file(s) an interrupted run left in {options.out}")
            manifest = output.read_manifest()
            resuming = bool(output.parts(ARTICLES))
            if manifest and resuming and (manifest.model_id, manifest.model_version) != (
                    card.model_id, card.version):
                raise ScoreError(
                    f"{options.out} holds labels from {manifest.model_id} "
                    f"{manifest.model_version}, not {card.model_id} {card.version}: "
                    "choose another --out")
            plan = make_plan(files, output.written_ids() if resuming else set())
            _check_columns(plan, manifest if resuming else None, options.out)
            output.write_rejects(plan.rejects)
            on_plan(plan)
            record = RunRecord(started=started, engine=options.engine, address=options.address,
                               rejects=len(plan.rejects), already_written=plan.already_written)
            if not (manifest and resuming):
                manifest = Manifest(model_id=card.model_id, model_version=card.version,
                                    backend=backend, carried=plan.carried,
                                    runs=manifest.runs if manifest else [])
            manifest.runs.append(record)
            output.write_manifest(manifest)
            engine_clock = time.perf_counter()
            result = (_label(options, plan, model_dir, backend, card.version, on_progress,
                             announce) if plan.to_label else EngineResult())
            engine_s = time.perf_counter() - engine_clock
            record.articles, record.sentences = result.articles, result.sentences
            record.workers, record.nodes = result.workers, result.nodes
            record.wall_s = round(time.perf_counter() - clock, 3)
            record.finished = True
            output.write_manifest(manifest)
    except OutputError as error:
        raise ScoreError(str(error)) from error
    return RunSummary(out=options.out, engine=options.engine, articles=result.articles,
                      sentences=result.sentences, rejects=len(plan.rejects),
                      already_written=plan.already_written, recovered_files=recovered,
                      workers=result.workers, nodes=result.nodes,
                      worker_info=result.worker_info, wall_s=record.wall_s,
                      engine_s=round(engine_s, 3))


def _model(options: ScoreOptions) -> tuple[Path | None, str, ModelCard]:
    """The model's card and the torch-free backend both engines will run."""
    from model.artifact import ModelLoadError, read_card
    from model.predict import DEFAULT_MODEL_DIR, EXPORTED_BACKENDS, default_backend

    model_dir = options.model_dir
    try:
        card = read_card(model_dir or DEFAULT_MODEL_DIR)
    except ModelLoadError as error:
        raise ScoreError(str(error)) from error
    backend = options.backend or default_backend(model_dir)
    if backend not in EXPORTED_BACKENDS:
        raise ScoreError(
            f"score runs the torch-free encoder ({', '.join(EXPORTED_BACKENDS)}), not "
            f"{backend!r}: export the model first (`presslens export --model DIR`)")
    return model_dir, backend, card


def _check_columns(plan: Plan, manifest: Manifest | None, out: Path) -> None:
    clash = clashing_columns(plan.carried)
    if clash:
        raise ScoreError(f"input column(s) {clash} would clash with the summary table's own "
                         "columns of that name: rename them in the input")
    if manifest is not None and manifest.carried != plan.carried:
        raise ScoreError(f"{out} was written with carried columns {manifest.carried}, this "
                         f"input has {plan.carried}: choose another --out")


def _label(options: ScoreOptions, plan: Plan, model_dir: Path | None, backend: str,
           version: str, on_progress: Progress,
           announce: Callable[[str], None]) -> EngineResult:
    if options.engine == "local":
        from archive.local_engine import run_local
        from model.artifact import ModelLoadError
        from model.predict import Presslens

        try:
            model = Presslens.load(model_dir, backend)
        except ModelLoadError as error:
            raise ScoreError(str(error)) from error
        announce(f"local engine: 1 process, backend {backend}, "
                 f"{getattr(model.encoder, 'threads', '?')} thread(s)")
        return run_local(plan, options.out, model, options.batch_size, options.part_rows,
                         on_progress)
    try:
        import ray

        from archive import ray_cluster, ray_engine
    except ImportError as error:
        raise ScoreError(f"Ray is not installed ({error}): pip install 'presslens[scale]', "
                         "or use --engine local") from error
    try:
        started_here = ray_cluster.connect(options.address)
    except ConnectionError as error:
        raise ScoreError(f"cannot reach the Ray cluster at {options.address}: {error}") from error
    try:
        return ray_engine.run_ray(
            plan, options.out.resolve(), model_dir=model_dir.resolve() if model_dir else None,
            backend=backend, version=version, batch_size=options.batch_size,
            part_rows=options.part_rows, workers=options.workers,
            cpus_per_worker=options.cpus_per_worker, on_progress=on_progress,
            announce=announce)
    except (ValueError, ray.exceptions.RayError) as error:
        raise ScoreError(f"the Ray job failed: {error}") from error
    finally:
        if started_here:
            ray.shutdown()
