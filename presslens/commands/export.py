"""``presslens export``: re-export a model's encoder for torch-free serving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from presslens.commands.common import console, fail


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
        raise fail(error) from error
    from model.predict import default_backend

    # the card records the preferred runtime; this machine may not run it (OpenVINO pays
    # off only where the CPU has bf16), so say what will actually serve here
    console.print(f"exported {', '.join(exports['backends'])} into {model_dir}/{exports['dir']}; "
                  f"serving on this machine: {default_backend(model_dir)} "
                  f"(card's preference: {exports['default']})")
    console.print_json(json.dumps({b: v.get("parity") for b, v in exports["backends"].items()}))
