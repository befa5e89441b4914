"""presslens: how each sentence of a news article is framed, and what stance it takes.

Label an article (classify), a CSV of sentences (predict), two versions of a story
(compare) or a whole archive (score); serve the API and page (serve); train on your own
labelled CSVs (train), score a model (evaluate) and export it for serving (export).
"""

# Heavy imports happen inside the commands, so --help is fast and serving never pulls in
# training's dependencies (torch).

from __future__ import annotations

import typer

from presslens.commands import classify, compare, evaluate, export, predict, score, serve, train

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
# In this order in ``presslens --help``.
for command in (train.train, evaluate.evaluate, classify.classify, predict.predict,
                compare.compare, serve.serve, export.export, score.score):
    app.command()(command)


if __name__ == "__main__":
    app()
