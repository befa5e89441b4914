"""``presslens compare``: what a second version changed in how a story is told."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from presslens.commands import common
from presslens.commands.common import BackendOption, ModelOption, console, read_text

if TYPE_CHECKING:
    from model.compare_results import Comparison, PairComparison, StanceSummary
    from model.predict import SentenceResult


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

    text_a, text_b = read_text(file_a), read_text(file_b)
    model = common.load_model(model_dir, backend)
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
