"""Which encoder to fine-tune: quality on real dev sentences and serving speed, side by side.

``python -m training.compare_encoders --encoder default --encoder PATH [--examples N]``
(needs ``../shared/datasets``). For each encoder, in one process:

- frozen and fine-tuned framing macro-F1 on the real-news *dev* split: the same seeded
  sample of ``N`` framing examples (real-news train split and corpus) fine-tunes it for one
  epoch, then a logistic head (C 0.01) is fitted on that sample's features;
- serving speed: the encoder exported to ONNX and run by ONNX Runtime on the seed
  sentences, 64 per call, against sentence-transformers on torch running the stock
  all-MiniLM-L6-v2 in fp32, measured in the same process.

A reduced recipe (one head, one epoch, a sample): it ranks encoders, it does not predict
the shipped model's figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score

from model.encoder import Encoder, TorchEncoder
from model.features import Unit, head_features
from model.labels import FRAMING
from training import build_default
from training.annotations import of_split
from training.finetune import Example, FinetuneConfig, finetune
from training.heads import make_classifier
from training.trainer import Trainer


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _dev_f1(encoder: Encoder, train: list[Example], dev: list[tuple[str, str]]) -> float:
    X = head_features(encoder, [Unit(e.text) for e in train], FRAMING)
    head = make_classifier(0.01).fit(X, [e.label for e in train])
    predicted = head.predict(head_features(encoder, [Unit(t) for t, _ in dev], FRAMING))
    return round(float(f1_score([y for _, y in dev], predicted, average="macro")), 4)


def _seed_sentences(count: int) -> list[str]:
    from model.segment import split

    seeds = sorted((build_default.ROOT / "seeds").glob("*.txt"))
    texts = [s.text for path in seeds for s in split(path.read_text(encoding="utf-8"))
             if not s.boilerplate]
    return (texts * (count // len(texts) + 1))[:count]


def _rate(encode: Any, texts: list[str], rounds: int = 3) -> float:
    encode(texts[:64])
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for first in range(0, len(texts), 64):
            encode(texts[first : first + 64])
        best = max(best, len(texts) / (time.perf_counter() - start))
    return best


def _onnx_rate(encoder: TorchEncoder, texts: list[str], work: Path) -> float:
    from model.onnx_encoder import load_exported
    from training.export import export_encoder

    out = work / "onnx"
    export_encoder(out, encoder, ("onnx",), "onnx")
    exported = load_exported(out, "onnx")
    exported.batch_size = 64
    return _rate(exported.encode, texts)


def compare(encoders: list[str], examples: int, seed: int = 0) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    from model.encoder import resolve_encoder_path

    trainer = Trainer(build_default.config(Path("unused")), log=_log)
    dataset = trainer.dataset()
    pool = [Example(r.text, FRAMING, r.labels[FRAMING])
            for r in dataset.for_head(FRAMING)]
    random.Random(seed).shuffle(pool)
    sample = pool[:examples]
    dev = [(s.text, s.framing) for s in of_split(trainer.real, "dev") if s.framing]
    texts = _seed_sentences(256)
    reference = SentenceTransformer(str(resolve_encoder_path("default")), device="cpu")
    reference_rate = _rate(lambda t: reference.encode(t, batch_size=64), texts)
    results: dict[str, Any] = {"st_minilm_torch_sent_per_s": round(reference_rate, 1),
                               "examples": len(sample), "dev_sentences": len(dev)}
    for name in encoders:
        with tempfile.TemporaryDirectory(prefix="presslens-encoders-") as work:
            frozen = TorchEncoder(name)
            started = time.monotonic()
            tuned_dir = finetune(name, sample, Path(work) / "tuned",
                                 FinetuneConfig(epochs=1.0), _log)
            seconds = time.monotonic() - started
            tuned = TorchEncoder(str(tuned_dir))
            rate = _onnx_rate(tuned, texts, Path(work))
            results[name] = {
                "parameters_m": round(sum(p.numel() for p in tuned._transformer.parameters())
                                      / 1e6, 1),
                "layers": tuned._transformer.config.num_hidden_layers,
                "frozen_dev_macro_f1": _dev_f1(frozen, sample, dev),
                "finetuned_dev_macro_f1": _dev_f1(tuned, sample, dev),
                "finetune_s": round(seconds),
                "onnx_sent_per_s": round(rate, 1),
                "onnx_x_st_minilm_torch": round(rate / reference_rate, 2),
            }
        _log(f"{name}: {results[name]}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", action="append", required=True,
                        help="'default', a local sentence-transformers dir or a hub id")
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = compare(args.encoder, args.examples)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
