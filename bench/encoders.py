"""Every encoder backend on the same sentences, each in a fresh process, ratios against torch.

Usage:
    python bench/encoders.py [--model DIR] [--backend B ...] [--sentences N] [--rounds R]
                             [--unbucketed] [--json FILE]

For each backend (default: torch and every torch-free backend whose files the model has) a
new Python process is started; it measures

- cold start: from the process's start to its first answer, timed by this parent, twice:
  for the encoder alone (import the runtime, load the encoder, one sentence's vector; what
  the fast-path issue's figures measure), and for the whole model (``Presslens.load``, with
  the card, the checksum verification of every file and the heads, then one sentence);
- sentences/s at batch 64: the sentences, in a fixed shuffled order, passed to
  ``encoder.encode`` 64 at a time (as one article or one API batch would be); best of
  ``--rounds`` passes, as the least disturbed by other load on the machine; also per
  second of the process's CPU time (all its threads), which other load disturbs less;
- sentences/s at batch 1 and the single-sentence latency p50: one sentence per call;
- peak RSS of the process (``ru_maxrss``), and whether torch was imported;
- labelled sentences/s: the whole model (one encoding, both heads) over the same sentences,
  64 per call, best of ``--rounds``.

A reference row, ``st-minilm``, is sentence-transformers on torch running the stock
all-MiniLM-L6-v2 in fp32 (``SentenceTransformer.encode``, batch 64): the yardstick the
real-news issue sets, "label at least as many sentences per second as that encodes".

The sentences are the seed articles' sentences (``seeds/*.txt``), repeated to ``N``.
``--unbucketed`` adds rows for the torch-free backends with length bucketing off (one padded
run per batch, as the torch backend does), to show what bucketing contributes.
Threads follow ``PRESSLENS_THREADS`` or the CPUs this process may use (torch: its default).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
CHILD_FLAG = "--child"
REFERENCE = "st-minilm"
ENCODER_FLAG = "--encoder-only"


def sentences(count: int) -> list[str]:
    from model.segment import split

    texts = [s.text for path in SEEDS for s in split(path.read_text(encoding="utf-8"))
             if not s.boilerplate]
    repeated = (texts * (count // len(texts) + 1))[:count]
    random.Random(0).shuffle(repeated)
    return repeated


def encoder_only(spec: dict[str, Any]) -> None:
    """Runs in the fresh process: load the encoder alone and answer once, nothing else."""
    model_dir = Path(spec["model"]) if spec["model"] else ROOT / "model" / "default"
    # The card as plain JSON: its pydantic model is part of loading the model, not the encoder.
    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    if spec["backend"] == REFERENCE:
        encoder = _reference()
    elif spec["backend"] == "torch":
        from model.encoder import TorchEncoder

        encoder = TorchEncoder(card["encoder"]["name"], base=model_dir)
    else:
        from model.onnx_encoder import load_exported

        encoder = load_exported(model_dir / card["exports"].get("dir", "onnx"), spec["backend"])
    encoder.encode(["The council approved the budget on Tuesday."])
    print("ready", flush=True)


class _Reference:
    """sentence-transformers itself on the stock MiniLM, behind ``encode``."""

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        from model.encoder import resolve_encoder_path

        self.model = SentenceTransformer(str(resolve_encoder_path("default")), device="cpu")
        self.batch_size = 64

    def encode(self, texts: list[str]) -> Any:
        return self.model.encode(texts, batch_size=self.batch_size)


def _reference() -> _Reference:
    return _Reference()


def _labelling_rate(model: Any, texts: list[str], rounds: int) -> float:
    """Best sentences/s of the whole model (one encoding, every head), 64 per call."""
    from model.features import Unit

    units = [Unit(t) for t in texts]
    model.predict_units(units[:64])
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for first in range(0, len(units), 64):
            model.predict_units(units[first : first + 64])
        best = max(best, len(units) / (time.perf_counter() - start))
    return best


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs in the fresh process: load, answer once (cold start ends), then measure."""
    import resource

    from model.predict import Presslens

    texts = sentences(spec["sentences"])
    model = None
    if spec["backend"] == REFERENCE:
        encoder = _reference()
    else:
        model = Presslens.load(spec["model"], spec["backend"])
        encoder = model.encoder
    encoder.encode(texts[:1])
    print("ready", flush=True)  # the parent stops the cold-start clock here
    if spec.get("unbucketed"):
        encoder.run_overhead = float("inf")  # type: ignore[attr-defined]
    encoder.batch_size = 64
    encoder.encode(texts[:64])  # warm-up at the measured shape
    best_64 = best_cpu = 0.0
    for _ in range(spec["rounds"]):
        start, cpu = time.perf_counter(), time.process_time()
        for first in range(0, len(texts), 64):
            encoder.encode(texts[first : first + 64])
        best_64 = max(best_64, len(texts) / (time.perf_counter() - start))
        best_cpu = max(best_cpu, len(texts) / (time.process_time() - cpu))
    singles = texts[: spec["singles"]]
    latencies = []
    for text in singles:
        start = time.perf_counter()
        encoder.encode([text])
        latencies.append(time.perf_counter() - start)
    return {
        "label_per_s": _labelling_rate(model, texts, spec["rounds"]) if model else None,
        "batch64_per_s": best_64,
        "batch64_per_cpu_s": best_cpu,
        "batch1_per_s": len(singles) / sum(latencies),
        "p50_ms": statistics.median(latencies) * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_imported": "torch" in sys.modules,
        "threads": getattr(encoder, "threads", None),
    }


def _time_to_ready(flag: str, spec: dict[str, Any]) -> tuple[float, subprocess.Popen[str]]:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, flag, json.dumps(spec)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    cold = time.perf_counter() - start
    if first.strip() != "ready":
        process.wait()
        raise RuntimeError(f"backend {spec['backend']} failed (exit {process.returncode})")
    return cold, process


def run_backend(spec: dict[str, Any]) -> dict[str, Any]:
    """Fresh processes for one backend: the encoder alone, then the whole model, measured."""
    encoder_cold, process = _time_to_ready(ENCODER_FLAG, spec)
    process.communicate()
    cold, process = _time_to_ready(CHILD_FLAG, spec)
    rest, _ = process.communicate()
    if process.returncode:
        raise RuntimeError(f"backend {spec['backend']} failed (exit {process.returncode})")
    return ({"encoder_cold_start_s": encoder_cold, "cold_start_s": cold}
            | json.loads(rest.strip().splitlines()[-1]))


def available_backends(model: Path | None) -> list[str]:
    from model.artifact import read_card
    from model.predict import DEFAULT_MODEL_DIR

    model_dir = model or DEFAULT_MODEL_DIR
    exports = read_card(model_dir).exports
    found = ["torch"]
    for backend, info in exports.get("backends", {}).items():
        if (model_dir / exports.get("dir", "onnx") / info["file"]).is_file():
            found.append(backend)
    return found


def table(results: dict[str, dict[str, Any]]) -> str:
    base = results.get("torch")
    reference = results.get(REFERENCE, {}).get("batch64_per_s")
    head = ("backend", "labelled sent/s", "labelled ×st-minilm", "b1 sent/s", "b64 sent/s",
            "b64 sent/CPU-s", "p50 ms",
            "encoder cold s", "model cold s", "peak RSS MB", "b64 ×torch", "b64 CPU ×torch",
            "b1 ×torch", "encoder cold ×torch", "model cold ×torch", "RSS ×torch",
            "torch imported")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in results.items():
        ratios = (
            [f"{r[k] / base[k]:.2f}" for k in ("batch64_per_s", "batch64_per_cpu_s",
                                                  "batch1_per_s", "encoder_cold_start_s",
                                                  "cold_start_s", "peak_rss_mb")]
            if base else ["–"] * 6
        )
        labelled = (f"{r['label_per_s']:.0f} | "
                    + (f"{r['label_per_s'] / reference:.2f}" if reference else "–")
                    if r.get("label_per_s") else "– | –")
        lines.append(
            f"| {name} | {labelled} | {r['batch1_per_s']:.0f} | {r['batch64_per_s']:.0f} | "
            f"{r['batch64_per_cpu_s']:.0f} | "
            f"{r['p50_ms']:.1f} | {r['encoder_cold_start_s']:.2f} | {r['cold_start_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | "
            + " | ".join(ratios) + f" | {'yes' if r['torch_imported'] else 'no'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="model dir (default: shipped)")
    parser.add_argument("--backend", action="append", help="repeatable; default: all available")
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--singles", type=int, default=64, help="sentences timed one by one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--unbucketed", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    backends = args.backend or [REFERENCE, *available_backends(args.model)]
    runs = [(b, False) for b in backends]
    if args.unbucketed:
        runs += [(b, True) for b in backends if b != "torch"]
    results: dict[str, dict[str, Any]] = {}
    for backend, unbucketed in runs:
        name = backend + (" (unbucketed)" if unbucketed else "")
        spec = {"model": str(args.model) if args.model else None, "backend": backend,
                "sentences": args.sentences, "singles": args.singles, "rounds": args.rounds,
                "unbucketed": unbucketed}
        results[name] = run_backend(spec)
        print(f"{name}: done", file=sys.stderr, flush=True)
    print(f"{args.sentences} seed sentences, batch 64 best of {args.rounds}; "
          f"{args.singles} single-sentence calls; cpus={len(os.sched_getaffinity(0))}")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == CHILD_FLAG:
        print(json.dumps(child(json.loads(sys.argv[2]))))
    elif len(sys.argv) == 3 and sys.argv[1] == ENCODER_FLAG:
        encoder_only(json.loads(sys.argv[2]))
    else:
        main()
