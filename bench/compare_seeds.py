"""Time ``presslens compare`` on the two seeds: the whole comparison and its two model passes.

Usage: python bench/compare_seeds.py [--model DIR] [--repeat N]
Prints the median wall time of each step in milliseconds; compare = classify + encode + align.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from model.compare import build_comparison, compare
from model.predict import Presslens, default_backend

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def median_ms(step: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    model = Presslens.load(args.model, default_backend())
    a, b = (path.read_text(encoding="utf-8") for path in SEEDS[:2])
    compare(model, a, b)  # warm-up
    sentences = model.classify_many([a, b])
    content = [[s for s in doc if not s.boilerplate] for doc in sentences]
    texts = [s.text for s in content[0] + content[1]]
    vectors = model.encoder.encode(texts)
    steps = {
        "compare (all)": lambda: compare(model, a, b, ["Iran"]),
        "classify both versions": lambda: model.classify_many([a, b], [["Iran"], ["Iran"]]),
        "encode content sentences": lambda: model.encoder.encode(texts),
        "align + compare labels": lambda: build_comparison(
            sentences[0], sentences[1], vectors[: len(content[0])], vectors[len(content[0]) :]
        ),
    }
    print(f"backend={default_backend()} sentences={len(texts)} content, repeat={args.repeat}")
    for name, step in steps.items():
        print(f"{name:28s} {median_ms(step, args.repeat):9.1f} ms")


if __name__ == "__main__":
    main()
