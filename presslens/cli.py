"""The ``presslens`` command line. Heavy imports happen inside commands, so ``--help`` is fast
and serving commands never pull in training's dependencies (torch)."""

from __future__ import annotations

import typer

from presslens.commands import classify, compare, evaluate, export, predict, serve, train

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
# In this order in ``presslens --help``.
for command in (train.train, evaluate.evaluate, classify.classify, predict.predict,
                compare.compare, serve.serve, export.export):
    app.command()(command)


if __name__ == "__main__":
    app()
