"""Leave one publisher out: does framing hold on an outlet the model never saw?

``python -m training.lopo [--out FILE]`` (needs ``../shared/datasets``):

1. fine-tune the encoder as the default recipe does, but with *no* article sentence in
   its data (the corpus, the real-news train split's standalone sentences, NewsMTSC), so
   no publisher's prose has shaped it;
2. for each of the seven publishers, fit the framing head exactly as the recipe does
   (``training.fit.fit_heads`` with its ``HeadConfig``: C and temperature chosen on the
   real-news dev split, here without the held-out publisher's sentences) on that data plus
   the *other six* publishers' train-split articles, and score every annotated sentence of
   the held-out publisher's articles (all splits).

This is stricter than the shipped model (whose encoder saw six publishers' articles and
the seventh's too), so its figures are a floor for an unseen outlet, not the card's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from model.encoder import TorchEncoder
from model.labels import FRAMING, LABELS
from model.predict import Presslens
from training import build_default
from training.annotations import RealSentence, of_split, real_rows
from training.cache import FeatureCache
from training.dataset import Dataset, Row
from training.evaluate import head_predictions
from training.fit import build_card, fit_heads, serving_heads
from training.metrics import head_metrics
from training.trainer import Trainer


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _framing_only(dataset: Dataset) -> Dataset:
    return Dataset([Row(r.file, r.line, r.text, None, {FRAMING: r.labels[FRAMING]}, r.story)
                    for r in dataset.rows if FRAMING in r.labels], dataset.files)


def run(work: Path, epochs: float | None = None) -> dict[str, Any]:
    config = build_default.config(work / "unused")
    if epochs is not None and config.finetune is not None:
        config = config.model_copy(
            update={"finetune": config.finetune.model_copy(update={"epochs": epochs})})
    trainer = Trainer(config, log=_log)
    full = trainer.dataset()
    articles = [s for s in trainer.real if s.publisher and s.framing]
    base = Dataset([r for r in full.rows if not r.file.endswith("polnear_train_articles")],
                   full.files)
    _log(f"lopo: encoder fine-tuned without articles on {len(base.rows)} rows")
    tuned = trainer.encoder_dir(base, work)
    encoder = TorchEncoder(str(tuned))
    cache = FeatureCache(encoder, trainer.config.cache_dir)
    results: dict[str, Any] = {}
    for publisher in sorted({s.publisher for s in articles}):
        others: list[RealSentence] = [s for s in articles
                                      if s.publisher != publisher and s.split == "train"]
        held = [s for s in articles if s.publisher == publisher]
        data = _framing_only(Dataset(base.rows + real_rows(others), base.files))
        dev = Dataset(real_rows([s for s in of_split(trainer.real, "dev")
                                 if s.publisher != publisher]), [])
        heads, combined, _ = fit_heads(data, encoder, trainer.config.heads,
                                       trainer.config.cache_dir, dev=dev)
        card = build_card(data, encoder, {}, f"lopo-without-{publisher}")
        model = Presslens(encoder, serving_heads(heads, combined), card, cache.features)
        rows = real_rows(held)
        proba = head_predictions(model, rows, FRAMING)
        results[publisher] = head_metrics([r.labels[FRAMING] for r in rows], proba,
                                          LABELS[FRAMING])
        _log(f"lopo: {publisher}: framing macro-F1 {results[publisher]['macro_f1']:.3f} "
             f"on {len(rows)} sentences")
    return {
        "mean_macro_f1": round(float(np.mean([m["macro_f1"] for m in results.values()])), 4),
        "per_publisher": results,
        "encoder_trained_on_rows": len(base.rows),
        "finetune": trainer.config.finetune.model_dump() if trainer.config.finetune else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--epochs", type=float, default=None,
                        help="fine-tuning epochs (default: the default recipe's)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="presslens-lopo-") as work:
        result = run(Path(work), args.epochs)
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(json.dumps({"mean_macro_f1": result["mean_macro_f1"],
                      **{p: m["macro_f1"] for p, m in result["per_publisher"].items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
