"""``presslens train``: fill in a ``TrainingConfig`` and run the one way a model is made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from presslens.commands.common import console, fail


def train(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled CSV; repeatable.")],
    out: Annotated[Path, typer.Option("--out", help="Model directory to write (atomically).")],
    evaluate: Annotated[
        list[Path] | None, typer.Option("--eval", help="Held-out CSV scored into the card.")
    ] = None,
    encoder: Annotated[str, typer.Option(help="'default', a local path or a hub id.")] = "default",
    model_id: Annotated[str, typer.Option(help="Name recorded in the card.")] = "presslens-custom",
    frozen: Annotated[
        bool, typer.Option("--frozen", help="Keep the encoder frozen and fit only the heads: "
                           "minutes instead of an hour, lower quality on real news.")
    ] = False,
    epochs: Annotated[float, typer.Option(help="Fine-tuning epochs.")] = 2.0,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop fine-tuning after this many steps (smoke runs).")
    ] = None,
    real_news: Annotated[
        bool, typer.Option("--real-news", help="Add the project's real-news annotations "
                           "(needs ../shared/datasets; skipped, saying so, without it).")
    ] = False,
    proxies: Annotated[
        bool, typer.Option(help="Score ../shared/datasets proxies into the card when present.")
    ] = True,
    export: Annotated[bool, typer.Option(help="Export the torch-free serving encoder.")] = True,
) -> None:
    """Train a head per label column present in the CSVs (text, framing, stance, target),
    fine-tuning the encoder first unless --frozen."""
    from model.artifact import NotAModelError
    from training.dataset import DataError
    from training.finetune import FinetuneConfig
    from training.trainer import Trainer, TrainingConfig

    config = TrainingConfig(
        data=data, out=out, eval=evaluate or [], encoder=encoder, model_id=model_id,
        finetune=None if frozen else FinetuneConfig(epochs=epochs, max_steps=max_steps),
        real_news=real_news, proxies=proxies, export=export,
    )
    try:
        card = Trainer(config).run()
    except (DataError, NotAModelError) as error:
        raise fail(error) from error
    console.print(f"wrote {out} ({card.version})")
    console.print_json(json.dumps(_headline(card.metrics)))


def _headline(metrics: dict) -> dict:
    out: dict = {}
    for head, m in metrics.items():
        if isinstance(m, dict) and "cv_by_story" in m:
            out[f"{head}_cv_macro_f1"] = m["cv_by_story"]["macro_f1"]
    for head, m in metrics.get("heldout", {}).items():
        out[f"{head}_heldout_macro_f1"] = m["macro_f1"]
    for name, heads in metrics.get("real_news_test", {}).items():
        if name in ("all", "articles"):
            out |= {f"real_{name}_{h}_macro_f1": m["macro_f1"] for h, m in heads.items()}
    out |= metrics.get("proxies", {})
    return out
