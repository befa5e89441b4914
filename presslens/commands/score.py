"""``presslens score``: label a whole archive into Parquet, on Ray Data or in this process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from presslens.commands.common import BackendOption, ModelOption, console, err, fail

if TYPE_CHECKING:
    from rich.progress import Progress

    from archive.plan import Plan
    from archive.run import RunSummary

SHOWN_REJECTS = 10


class _Bar:
    """The rich progress bar: articles, articles/s, sentences, ETA (on stderr)."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.task = None

    def start(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("labelling"), BarColumn(), MofNCompleteColumn(),
            TextColumn("articles · {task.fields[rate]} · {task.fields[sentences]} sentences"),
            TextColumn("· ETA"), TimeRemainingColumn(), TextColumn("· elapsed"),
            TimeElapsedColumn(), console=err, transient=False)
        self.task = self.progress.add_task("score", total=total, rate="…/s", sentences=0)
        self.progress.start()

    def update(self, articles: int, sentences: int) -> None:
        if self.progress is None:
            return
        self.progress.update(self.task, completed=articles, sentences=sentences)
        speed = self.progress.tasks[0].speed
        self.progress.update(self.task, rate=f"{speed:.1f}/s" if speed else "…/s")

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def score(
    input_path: Annotated[Path, typer.Argument(
        metavar="INPUT", help="A JSON Lines, CSV or Parquet file, or a folder of them; one "
        "article a row: id and text required, targets (a list, or ';'-separated) optional, "
        "any other column carried into the summary table.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (Parquet tables "
                                      "articles/ and sentences/); a rerun resumes it.")],
    engine: Annotated[Literal["ray", "local"], typer.Option(
        help="ray: Ray Data, started here unless --address; local: this process only.")
    ] = "ray",
    address: Annotated[str | None, typer.Option(
        envvar="RAY_ADDRESS", show_envvar=True,
        help="An existing Ray cluster: HOST:6379, auto or ray://HOST:10001 "
        "(default: Ray starts on this machine).")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Labelling workers (default: one per CPU Ray reports).")] = None,
    cpus_per_worker: Annotated[int | None, typer.Option(
        min=1, help="Encoder threads per worker (default: the CPUs shared out over "
        "--workers, else 1).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Articles per labelling call.")] = 32,
    part_rows: Annotated[int, typer.Option(
        min=1, help="Articles per Parquet part (also what a crash can lose).")] = 1000,
    model_dir: ModelOption = None,
    backend: BackendOption = None,
) -> None:
    """Label every article of an archive: a Parquet sentence table and a per-article summary,
    resumable, with malformed rows set aside in a rejects file."""
    from archive.run import ScoreError, ScoreOptions
    from archive.run import score as run_score

    options = ScoreOptions(input=input_path, out=out, engine=engine, address=address,
                           workers=workers, cpus_per_worker=cpus_per_worker,
                           batch_size=batch_size, part_rows=part_rows, model_dir=model_dir,
                           backend=backend)
    bar = _Bar()

    def on_plan(plan: Plan) -> None:
        _print_plan(plan, out)
        if plan.to_label:
            bar.start(plan.to_label)

    try:
        summary = run_score(options, on_progress=bar.update, on_plan=on_plan,
                            announce=lambda line: err.print(f"[dim]{line}[/dim]"))
    except ScoreError as error:
        bar.stop()
        raise fail(error) from error
    except KeyboardInterrupt:
        bar.stop()
        err.print("[yellow]interrupted[/yellow]: run the same command again to resume; "
                  "what is written stays, nothing is written twice")
        raise typer.Exit(130) from None
    bar.stop()
    _print_summary(summary)


def _print_plan(plan: Plan, out: Path) -> None:
    console.print(f"{len(plan.files)} file(s): {plan.to_label} article(s) to label, "
                  f"{plan.already_written} already in {out}, {len(plan.rejects)} rejected")
    for reject in plan.rejects[:SHOWN_REJECTS]:
        err.print(f"[yellow]rejected[/yellow] {reject.file}:{reject.line}: {reject.reason}")
    if len(plan.rejects) > SHOWN_REJECTS:
        err.print(f"… and {len(plan.rejects) - SHOWN_REJECTS} more")
    if plan.rejects:
        err.print(f"rejected rows are in {out / 'rejects.jsonl'}")


def _print_summary(summary: RunSummary) -> None:
    if not summary.articles and not summary.recovered_files:
        console.print(f"nothing new to label ({summary.already_written} article(s) already "
                      f"written, {summary.rejects} rejected)")
        return
    rate = summary.articles / summary.wall_s if summary.wall_s else 0.0
    console.print(
        f"done: {summary.articles} article(s), {summary.sentences} sentence row(s) written, "
        f"{summary.rejects} rejected, {summary.already_written} already written; "
        f"{summary.wall_s:.1f} s wall ({rate:.1f} articles/s) on {summary.engine} "
        f"with {summary.workers} worker(s)")
    if len(summary.nodes) > 1:
        for node, count in sorted(summary.nodes.items()):
            console.print(f"  node {node[:12]}: {count} article(s)")
    console.print(f"tables: {summary.out / 'articles'} and {summary.out / 'sentences'}")
