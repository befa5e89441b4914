"""Which sentences of two versions are counterparts: a one-to-one alignment of vectors.

The Hungarian algorithm maximises the total cosine similarity of sentence embeddings, a
pair below the threshold is no pair, and a second, looser pass pairs leftovers that stand
in the same place of both versions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

DEFAULT_THRESHOLD = 0.6
"""Cosine similarity (MiniLM) from which two sentences anywhere in the story are counterparts."""
DEFAULT_GAP_THRESHOLD = 0.3
"""Cosine similarity from which two leftover sentences in the same place are counterparts."""


class Alignment(NamedTuple):
    a: int
    b: int
    similarity: float
    by_position: bool


def align(
    vectors_a: np.ndarray,
    vectors_b: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    gap_threshold: float = DEFAULT_GAP_THRESHOLD,
) -> list[Alignment]:
    """One-to-one pairs of rows of A and B, in A's order.

    First the anchors: the assignment of the whole similarity matrix, pairs under
    ``threshold`` dropped. Then each gap between consecutive anchors (the same gap in both
    versions) is assigned again with ``gap_threshold``: a rewritten sentence keeps its place
    in the story even when its wording moved too far for the first pass (a lede rewritten
    from "Two of America's adversaries" to "Russia and Iran").
    """
    if len(vectors_a) == 0 or len(vectors_b) == 0:
        return []
    similarity = _unit(vectors_a) @ _unit(vectors_b).T
    anchors = [Alignment(i, j, s, False) for i, j, s in _assign(similarity, threshold)]
    gaps: dict[tuple[object, object], tuple[list[int], list[int]]] = {}
    for i in sorted(set(range(similarity.shape[0])) - {p.a for p in anchors}):
        gaps.setdefault(_gap(i, anchors, "a"), ([], []))[0].append(i)
    for j in sorted(set(range(similarity.shape[1])) - {p.b for p in anchors}):
        gaps.setdefault(_gap(j, anchors, "b"), ([], []))[1].append(j)
    filled = [
        Alignment(rows[i], columns[j], s, True)
        for rows, columns in gaps.values()
        if rows and columns
        for i, j, s in _assign(similarity[np.ix_(rows, columns)], gap_threshold)
    ]
    return sorted(anchors + filled)


def _assign(similarity: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """The assignment maximising total similarity; pairs under the threshold are dropped.

    Similarities under the threshold count as zero, so the assignment never trades a
    real pair for one that will be dropped.
    """
    gain = np.where(similarity >= threshold, similarity, 0.0)
    rows, columns = linear_sum_assignment(gain, maximize=True)
    return [
        (int(i), int(j), float(similarity[i, j]))
        for i, j in zip(rows, columns, strict=True)
        if similarity[i, j] >= threshold
    ]


def _gap(index: int, anchors: list[Alignment], side: str) -> tuple[object, object]:
    """The anchors just before and just after ``index`` on one side: the gap it sits in."""
    positions = [(getattr(p, side), (p.a, p.b)) for p in anchors]
    before = max((pos for pos in positions if pos[0] < index), default=None)
    after = min((pos for pos in positions if pos[0] > index), default=None)
    return (before[1] if before else None, after[1] if after else None)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
