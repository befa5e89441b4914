"""The ``presslens`` command line. Heavy imports happen inside commands, so ``--help`` is fast
and serving commands never pull in training's dependencies (torch)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from model.compare import Comparison, PairComparison, StanceSummary
    from model.predict import SentenceResult

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()
err = Console(stderr=True)

ModelOption = Annotated[
    Path | None, typer.Option("--model", help="Model directory (default: the shipped model).")
]
BackendOption = Annotated[
    str | None,
    typer.Option("--backend", help="Encoder runtime; default: PRESSLENS_BACKEND or the fastest."),
]


def _load(model_dir: Path | None, backend: str | None):
    from model.artifact import ModelLoadError
    from model.predict import Presslens, default_backend

    try:
        return Presslens.load(model_dir, backend or default_backend(model_dir))
    except (ModelLoadError, FileNotFoundError) as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error


@app.command()
def train(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled CSV; repeatable.")],
    out: Annotated[Path, typer.Option("--out", help="Model directory to write (atomically).")],
    evaluate: Annotated[
        list[Path] | None, typer.Option("--eval", help="Held-out CSV scored into the card.")
    ] = None,
    encoder: Annotated[str, typer.Option(help="'default', a local path or a hub id.")] = "default",
    model_id: Annotated[str, typer.Option(help="Name recorded in the card.")] = "presslens-custom",
    proxies: Annotated[
        bool, typer.Option(help="Score ../shared/datasets proxies into the card when present.")
    ] = True,
) -> None:
    """Train a head per label column present in the CSVs (text, framing, stance, target)."""
    from rich.progress import Progress

    from training.dataset import DataError
    from training.evaluate import evaluate_files
    from training.fit import train as fit
    from training.proxies import proxy_summary

    def score(model) -> dict:
        extra = {"heldout": evaluate_files(model, evaluate)} if evaluate else {}
        return extra | ({"proxies": proxy_summary(model)} if proxies else {})

    with Progress(console=err, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done)

        try:
            card = fit(data, out, encoder, model_id, progress=progress, evaluate=score)
        except DataError as error:
            err.print(f"[red]error:[/red] {error}")
            raise typer.Exit(2) from error
    console.print(f"wrote {out} ({card.version})")
    console.print_json(json.dumps(_headline(card.metrics)))


def _headline(metrics: dict) -> dict:
    out: dict = {}
    for head, m in metrics.items():
        if isinstance(m, dict) and "cv_by_story" in m:
            out[f"{head}_cv_macro_f1"] = m["cv_by_story"]["macro_f1"]
    for head, m in metrics.get("heldout", {}).items():
        out[f"{head}_heldout_macro_f1"] = m["macro_f1"]
    out |= metrics.get("proxies", {})
    return out


@app.command()
def evaluate(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled CSV; repeatable.")],
    model_dir: ModelOption = None,
    backend: BackendOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write report.html, metrics.json and plots here."),
    ] = None,
    baseline_train: Annotated[
        Path | None,
        typer.Option("--baseline-train", help="CSV the report's TF-IDF baseline is trained on "
                     "(default: training/data/train.csv)."),
    ] = None,
    datasets: Annotated[
        Path | None,
        typer.Option("--datasets", help="Proxy datasets folder for the report "
                     "(default: PRESSLENS_DATASETS or ../shared/datasets)."),
    ] = None,
    cache: Annotated[
        bool, typer.Option(help="Reuse training's feature cache (PRESSLENS_CACHE_DIR) for the "
                           "report's embeddings; --no-cache embeds everything afresh."),
    ] = True,
) -> None:
    """Per-head macro-F1, per-class precision/recall/F1 and the confusion matrix; with
    --report, an HTML report with intervals, plots, errors, a baseline and the proxies."""
    from training.dataset import DataError
    from training.evaluate import evaluate_files

    if baseline_train and not report:
        err.print("[red]error:[/red] --baseline-train only applies with --report DIR")
        raise typer.Exit(2)
    model = _load(model_dir, backend)
    try:
        if report:
            results = _write_report(model, data, report, baseline_train, datasets, model_dir,
                                    cache)
        else:
            results = evaluate_files(model, data)
    except DataError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    if as_json:
        console.print_json(json.dumps(results))
        return
    for head, m in results.items():
        table = Table(title=f"{head}: macro-F1 {m['macro_f1']:.3f}, accuracy {m['accuracy']:.3f}, "
                      f"ECE {m['ece']:.3f}, n={m['n']}")
        for column in ("class", "precision", "recall", "F1", "support"):
            table.add_column(column)
        for label, c in m["per_class"].items():
            table.add_row(label, f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}",
                          str(c["support"]))
        console.print(table)
        confusion = Table(title=f"{head}: confusion (rows gold, columns predicted)")
        confusion.add_column("")
        for label in m["labels"]:
            confusion.add_column(label)
        for label, row in zip(m["labels"], m["confusion"], strict=True):
            confusion.add_row(label, *map(str, row))
        console.print(confusion)


def _write_report(
    model, data: list[Path], out: Path, baseline_train: Path | None, datasets: Path | None,
    model_dir: Path | None, cache: bool,
) -> dict:
    """Build the report (training extras: matplotlib, jinja2) and return per-head metrics."""
    from training.cache import DEFAULT_CACHE_DIR
    from training.proxies import DATASETS_DIR
    from training.report import DEFAULT_BASELINE_TRAIN, build_report

    baseline_train = baseline_train or DEFAULT_BASELINE_TRAIN
    if not baseline_train.is_file():
        err.print(f"[red]error:[/red] --baseline-train {baseline_train}: file not found")
        raise typer.Exit(2)
    result = build_report(model, data, out, baseline_train, datasets or DATASETS_DIR,
                          model_dir=model_dir, cache_dir=DEFAULT_CACHE_DIR if cache else None)
    err.print(f"wrote {out / 'report.html'} and {out / 'metrics.json'} "
              f"in {result['elapsed_s']} s", soft_wrap=True)
    return {head: section["model"] for head, section in result["heads"].items()}


@app.command()
def classify(
    file: Annotated[str, typer.Argument(help="Article text file, or - for standard input.")],
    target: Annotated[
        list[str] | None, typer.Option("--target", help="Stance target; repeatable.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    model_dir: ModelOption = None,
    backend: BackendOption = None,
) -> None:
    """Split an article into sentences and label each one's framing and stance."""
    from dataclasses import asdict

    text = sys.stdin.read() if file == "-" else _read_text(Path(file))
    model = _load(model_dir, backend)
    sentences = model.classify(text, target or [])
    if as_json:
        console.print_json(json.dumps([asdict(s) for s in sentences]))
        return
    table = Table(show_lines=False)
    for column in ("#", "sentence", "framing", "stance"):
        table.add_column(column, overflow="fold")
    for s in sentences:
        if s.boilerplate:
            table.add_row(str(s.index), f"[dim]{s.text}[/dim]", "[dim]boilerplate[/dim]", "")
            continue
        framing = f"{s.framing.label} ({s.framing.confidence:.2f})" if s.framing else ""
        stance = "; ".join(
            f"{p.label} ({p.confidence:.2f})" + (f" → {p.target}" if p.target else "")
            for p in s.stance
        )
        table.add_row(str(s.index), s.text, framing, stance)
    console.print(table)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"[red]error:[/red] cannot read {path}: {error}")
        raise typer.Exit(2) from error


@app.command()
def predict(
    data: Annotated[Path, typer.Option("--data", help="CSV with a 'text' column (and 'target').")],
    out: Annotated[Path, typer.Option("--out", help="CSV to write.")],
    model_dir: ModelOption = None,
    backend: BackendOption = None,
) -> None:
    """Label each row of a CSV as one unit (not split) and write the labels beside it."""
    from model.features import Unit
    from model.labels import LABELS
    from model.segment import split

    with data.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    if "text" not in columns:
        err.print(f"[red]error:[/red] {data}: missing required column 'text' (found {columns})")
        raise typer.Exit(2)
    empty = [i + 2 for i, r in enumerate(rows) if not (r["text"] or "").strip()]
    if empty:
        err.print(f"[red]error:[/red] {data}, column 'text': empty text on lines {empty[:20]}")
        raise typer.Exit(2)
    model = _load(model_dir, backend)
    units = [Unit(r["text"], (r.get("target") or "").strip() or None) for r in rows]
    predictions = model.predict_units(units)
    extra = ["boilerplate"]
    for head in model.heads:
        extra += [head, f"{head}_confidence", *[f"p_{head}_{label}" for label in LABELS[head]]]
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns + [c for c in extra if c not in columns])
        writer.writeheader()
        for row, prediction in zip(rows, predictions, strict=True):
            segments = split(row["text"])
            row["boilerplate"] = bool(segments) and all(s.boilerplate for s in segments)
            for head, p in prediction.items():
                row[head], row[f"{head}_confidence"] = p.label, p.confidence
                row |= {f"p_{head}_{label}": p.scores[label] for label in LABELS[head]}
            writer.writerow(row)
    console.print(f"wrote {len(rows)} rows to {out}")


@app.command()
def compare(
    file_a: Annotated[Path, typer.Argument(help="Version A (e.g. the original), a text file.")],
    file_b: Annotated[Path, typer.Argument(help="Version B (e.g. the rewrite), a text file.")],
    target: Annotated[
        list[str] | None, typer.Option("--target", help="Stance target; repeatable.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Similarity that pairs two sentences (default 0.6)."),
    ] = None,
    gap_threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Looser one for leftovers in the same place (0.3)."),
    ] = None,
    model_dir: ModelOption = None,
    backend: BackendOption = None,
) -> None:
    """What B changed in how A's story is told: aligned sentences, framing and stance moves."""
    from model.compare import DEFAULT_GAP_THRESHOLD, DEFAULT_THRESHOLD
    from model.compare import compare as compare_versions

    text_a, text_b = _read_text(file_a), _read_text(file_b)
    model = _load(model_dir, backend)
    result = compare_versions(
        model, text_a, text_b, target or [],
        DEFAULT_THRESHOLD if threshold is None else threshold,
        DEFAULT_GAP_THRESHOLD if gap_threshold is None else gap_threshold,
    )
    if as_json:
        console.print_json(result.model_dump_json())
        return
    _print_comparison(result, file_a.name, file_b.name)


def _print_comparison(result: Comparison, name_a: str, name_b: str) -> None:
    shares = Table(title="Framing shares of content sentences")
    for column in ("framing", f"A: {name_a}", f"B: {name_b}", "B − A"):
        shares.add_column(column)
    for label, shift in result.framing_shift.items():
        shares.add_row(label, f"{result.a.framing_shares[label]:.2f}",
                       f"{result.b.framing_shares[label]:.2f}", f"{shift:+.2f}")
    console.print(shares)
    stance = Table(title="Stance per target (share of the sentences carrying it)")
    for column in ("target", "A", "B"):
        stance.add_column(column)
    for in_a, in_b in zip(result.a.stance, result.b.stance, strict=True):
        stance.add_row(in_a.target or "(no target named)", _stance_shares(in_a),
                       _stance_shares(in_b))
    console.print(stance)
    console.print(_side_by_side(result))
    changes = Table(title="Changes, strongest first")
    for column in ("strength", "A", "B", "what changed"):
        changes.add_column(column, overflow="fold")
    for pair in result.changes:
        changes.add_row(f"{pair.strength:.2f}", result.a.sentences[pair.a].text,
                        result.b.sentences[pair.b].text, _what_changed(pair))
    console.print(changes if result.changes else "[green]No framing or stance changed.[/green]")
    for side, name in ((result.a, name_a), (result.b, name_b)):
        if side.boilerplate:
            console.print(f"[dim]Boilerplate only in {name} ({len(side.boilerplate)}):[/dim]")
            for index in side.boilerplate:
                console.print(f"[dim]  {side.sentences[index].text}[/dim]", highlight=False)


def _stance_shares(summary: StanceSummary) -> str:
    if not summary.sentences:
        return "—"
    shares = " · ".join(f"{label} {share:.2f}" for label, share in summary.shares.items())
    return f"{shares} (n={summary.sentences})"


def _side_by_side(result: Comparison) -> Table:
    table = Table(title="Side by side (≠ marks a changed framing or stance)", show_lines=True)
    for column in ("A", "framing A", "", "framing B", "B", "sim"):
        table.add_column(column, overflow="fold")
    pairs = {p.a: p for p in result.pairs}
    for a, b in result.rows():
        if b is None:
            sentence = result.a.sentences[a]
            table.add_row(f"[red]{sentence.text}[/red]", _framing(sentence), "", "",
                          "[red]— removed[/red]", "")
        elif a is None:
            sentence = result.b.sentences[b]
            table.add_row("[green]— added[/green]", "", "", _framing(sentence),
                          f"[green]{sentence.text}[/green]", "")
        else:
            pair = pairs[a]
            mark = "[bold yellow]≠[/bold yellow]" if pair.changed else "="
            similarity = f"{pair.similarity:.2f}" + ("*" if pair.by_position else "")
            table.add_row(result.a.sentences[a].text, _framing(result.a.sentences[a]), mark,
                          _framing(result.b.sentences[b]), result.b.sentences[b].text, similarity)
    table.caption = "* paired by position: same place in both versions, wording moved"
    return table


def _framing(sentence: SentenceResult) -> str:
    framing = sentence.framing
    return f"{framing.label} ({framing.confidence:.2f})" if framing else ""


def _what_changed(pair: PairComparison) -> str:
    moves = [f"framing: {pair.framing_a} → {pair.framing_b}"] if pair.framing_changed else []
    moves += [f"stance ({s.target or 'overall'}): {s.a} → {s.b}" for s in pair.stance if s.changed]
    return "; ".join(moves)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface [PRESSLENS_HOST, 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [PRESSLENS_PORT, 8000].")] = None,
    model_dir: ModelOption = None,
    backend: BackendOption = None,
) -> None:
    """Serve the HTTP API and the web page; settings come from PRESSLENS_* variables."""
    import logging

    import uvicorn
    from pydantic import ValidationError

    from model.artifact import ModelLoadError, read_card
    from model.predict import DEFAULT_MODEL_DIR
    from service.app import create_app
    from service.settings import Settings

    overrides = {"host": host, "port": port, "model_dir": model_dir, "backend": backend}
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
        read_card(settings.model_dir or DEFAULT_MODEL_DIR)  # fail fast, before uvicorn starts
    except (ValidationError, ModelLoadError) as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s: %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level,
                timeout_graceful_shutdown=settings.graceful_shutdown)

@app.command()
def export(
    model_dir: Annotated[Path, typer.Option("--model", help="Model directory to re-write.")],
    backend: Annotated[
        list[str] | None,
        typer.Option("--backend", help="Export for this backend (onnx, onnx-int8, openvino); "
                     "repeatable. Default: the serving default only."),
    ] = None,
    default: Annotated[
        str | None, typer.Option(help="Serving default recorded in the card.")
    ] = None,
) -> None:
    """Export the model's encoder for torch-free serving (ONNX fp32/int8), checked for parity
    against sentence-transformers, and re-write the model dir atomically with it."""
    from model.artifact import ModelLoadError
    from training.export import SERVING_BACKEND, export_model_dir

    backends = backend or [SERVING_BACKEND]
    try:
        exports = export_model_dir(model_dir, backends, default or SERVING_BACKEND)
    except (ModelLoadError, ValueError) as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    console.print(f"exported {', '.join(exports['backends'])} into {model_dir}/{exports['dir']} "
                  f"(serving default: {exports['default']})")
    console.print_json(json.dumps({b: v.get("parity") for b, v in exports["backends"].items()}))


if __name__ == "__main__":
    app()
