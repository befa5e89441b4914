"""``presslens classify``: one article's sentences with their framing and stance."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from presslens.commands import common
from presslens.commands.common import BackendOption, ModelOption, console, read_text


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

    text = sys.stdin.read() if file == "-" else read_text(Path(file))
    model = common.load_model(model_dir, backend)
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

