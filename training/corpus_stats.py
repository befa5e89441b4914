"""Corpus health figures: ``python -m training.corpus_stats [CSV ...]``.

Label shares, rows with targets, two-target sentences, stories per split, and the share
of distinct-sentence pairs whose embeddings are nearly identical (cosine > 0.95), a sign
of templated writing that would inflate held-out scores.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from training.dataset import Dataset, load

DATA = Path(__file__).resolve().parent / "data"
NEAR_DUPLICATE = 0.95


def near_duplicate_share(vectors: np.ndarray, threshold: float = NEAR_DUPLICATE) -> float:
    """Share of unordered pairs of distinct sentences with cosine above ``threshold``."""
    n = len(vectors)
    if n < 2:
        return 0.0
    similar = 0
    for first in range(0, n, 1024):
        block = vectors[first : first + 1024] @ vectors.T
        rows = np.arange(first, min(first + 1024, n))[:, None]
        similar += int(((block > threshold) & (np.arange(n)[None, :] > rows)).sum())
    return similar / (n * (n - 1) / 2)


def label_stats(dataset: Dataset) -> dict[str, Any]:
    rows = dataset.rows
    texts = {r.text for r in rows}
    by_text: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in rows:
        if r.target and "stance" in r.labels:
            by_text[r.text].add((r.target, r.labels["stance"]))
    two_target = sum(len({s for _, s in pairs}) > 1 for pairs in by_text.values())
    stats: dict[str, Any] = {
        "rows": len(rows),
        "distinct_sentences": len(texts),
        "stories": len({r.story for r in rows if r.story}),
        "rows_with_target": sum(r.target is not None for r in rows),
        "two_target_sentences_with_different_stances": two_target,
    }
    for head in ("framing", "stance"):
        counts = Counter(r.labels[head] for r in rows if head in r.labels)
        total = sum(counts.values())
        stats[f"{head}_share"] = {k: round(v / total, 3) for k, v in sorted(counts.items())}
    return stats


def main(paths: list[Path]) -> None:
    from model.encoder import TorchEncoder

    dataset = load(paths)
    stats = label_stats(dataset)
    texts = sorted({r.text for r in dataset.rows})
    vectors = TorchEncoder().encode(texts)
    stats["near_duplicate_pair_share"] = round(near_duplicate_share(vectors), 5)
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or [DATA / "train.csv", DATA / "test.csv"])
