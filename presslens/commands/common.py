"""What every command shares: the consoles, the model options, loading a model, failing.

Commands call ``common.load_model`` through this module, so a test can hand them an
already loaded model by replacing it here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from model.predict import Presslens

console = Console()
err = Console(stderr=True)

ModelOption = Annotated[
    Path | None, typer.Option("--model", help="Model directory (default: the shipped model).")
]
BackendOption = Annotated[
    str | None,
    typer.Option("--backend", help="Encoder runtime; default: PRESSLENS_BACKEND or the fastest."),
]


def fail(message: object) -> typer.Exit:
    """Print ``message`` as an error; the caller raises the returned exit (status 2)."""
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)  # one problem, one line
    return typer.Exit(2)


def load_model(model_dir: Path | None, backend: str | None) -> Presslens:
    from model.artifact import ModelLoadError
    from model.predict import Presslens, default_backend

    try:
        return Presslens.load(model_dir, backend or default_backend(model_dir))
    except (ModelLoadError, FileNotFoundError) as error:
        raise fail(error) from error


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {path}: {error}") from error
