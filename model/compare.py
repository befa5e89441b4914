"""Compare two versions of a story: which sentences pair up, and how their telling changed.

Alignment is one-to-one over content sentences: the Hungarian algorithm maximises the total
cosine similarity of sentence embeddings, a pair below the threshold is no pair, and a second,
looser pass pairs leftovers that stand in the same place of both versions. What stays unpaired
is reported as removed (only in A) or added (only in B). Boilerplate is each version's own
page furniture: it is listed per version and never aligned, so a promo line repeating a
headline cannot steal the headline's counterpart.

The pieces live beside this module: ``alignment`` pairs the vectors, ``compare_summary``
sums up each version, ``compare_results`` declares the shapes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.alignment import DEFAULT_GAP_THRESHOLD, DEFAULT_THRESHOLD, align
from model.compare_results import Comparison, PairComparison, StanceShift
from model.compare_summary import content_sentences, requested_targets, rounded, summarise
from model.labels import FRAMING, LABELS
from model.predict import Prediction, Presslens, SentenceResult


def compare(
    model: Presslens,
    text_a: str,
    text_b: str,
    targets: Sequence[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    gap_threshold: float = DEFAULT_GAP_THRESHOLD,
) -> Comparison:
    """Classify both versions in one batch, align their content sentences, and compare."""
    a, b = model.label_documents([text_a, text_b], [targets, targets])
    return build_comparison(
        a.sentences, b.sentences, a.vectors, b.vectors, targets, threshold, gap_threshold,
    )


def build_comparison(
    sentences_a: list[SentenceResult],
    sentences_b: list[SentenceResult],
    vectors_a: np.ndarray,
    vectors_b: np.ndarray,
    targets: Sequence[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    gap_threshold: float = DEFAULT_GAP_THRESHOLD,
) -> Comparison:
    """The comparison from classified sentences and their content sentences' vectors."""
    content_a, content_b = content_sentences(sentences_a), content_sentences(sentences_b)
    pairs = [
        compare_pair(content_a[p.a], content_b[p.b], p.similarity, p.by_position)
        for p in align(vectors_a, vectors_b, threshold, gap_threshold)
    ]
    paired_a, paired_b = {p.a for p in pairs}, {p.b for p in pairs}
    version_a = summarise(sentences_a, targets)
    version_b = summarise(sentences_b, targets)
    return Comparison(
        threshold=threshold,
        gap_threshold=gap_threshold,
        targets=requested_targets(targets),
        a=version_a,
        b=version_b,
        pairs=pairs,
        removed=[s.index for s in content_a if s.index not in paired_a],
        added=[s.index for s in content_b if s.index not in paired_b],
        framing_shift={
            label: rounded(version_b.framing_shares[label] - version_a.framing_shares[label])
            for label in LABELS[FRAMING]
        },
        changes=sorted((p for p in pairs if p.changed), key=lambda p: (-p.strength, p.a, p.b)),
    )


def compare_pair(
    a: SentenceResult, b: SentenceResult, similarity: float, by_position: bool = False
) -> PairComparison:
    """Framing and per-target stance of two counterparts, and how far they moved."""
    stance_a = {p.target: p for p in a.stance}
    stance_b = {p.target: p for p in b.stance}
    targets = list(dict.fromkeys([*stance_a, *stance_b]))
    shifts = [
        StanceShift(
            target=t,
            a=_label(stance_a.get(t)),
            b=_label(stance_b.get(t)),
            changed=t in stance_a and t in stance_b and stance_a[t].label != stance_b[t].label,
        )
        for t in targets
    ]
    distances = [_distance(a.framing, b.framing)] + [
        _distance(stance_a[t], stance_b[t]) for t in targets if t in stance_a and t in stance_b
    ]
    return PairComparison(
        a=a.index,
        b=b.index,
        similarity=rounded(similarity),
        by_position=by_position,
        framing_a=_label(a.framing),
        framing_b=_label(b.framing),
        framing_changed=_label(a.framing) != _label(b.framing),
        stance=shifts,
        stance_changed=any(s.changed for s in shifts),
        strength=rounded(max(distances)),
    )


def _label(prediction: Prediction | None) -> str | None:
    return prediction.label if prediction else None


def _distance(a: Prediction | None, b: Prediction | None) -> float:
    """Total-variation distance between two predictions' probabilities."""
    if a is None or b is None:
        return 0.0
    labels = set(a.scores) | set(b.scores)
    return 0.5 * sum(abs(a.scores.get(k, 0.0) - b.scores.get(k, 0.0)) for k in labels)
