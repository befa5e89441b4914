"""``presslens serve``: the HTTP API and the web page (no torch: the export serves)."""

from __future__ import annotations

from typing import Annotated

import typer

from presslens.commands.common import BackendOption, ModelOption, fail


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
        raise fail(error) from error
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s: %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level,
                timeout_graceful_shutdown=settings.graceful_shutdown)
