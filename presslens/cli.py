"""The ``presslens`` command line. Heavy imports happen inside commands, so ``--help`` is fast
and serving commands never pull in training's dependencies (torch)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

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
        return Presslens.load(model_dir, backend or default_backend())
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
) -> None:
    """Per-head macro-F1, per-class precision/recall/F1 and the confusion matrix."""
    from training.dataset import DataError
    from training.evaluate import evaluate_files

    model = _load(model_dir, backend)
    try:
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


if __name__ == "__main__":
    app()
