"""Compare two versions of a story: which sentences pair up, and how their telling changed.

Alignment is one-to-one over content sentences: the Hungarian algorithm maximises the total
cosine similarity of sentence embeddings, a pair below the threshold is no pair, and a second,
looser pass pairs leftovers that stand in the same place of both versions. What stays unpaired
is reported as removed (only in A) or added (only in B). Boilerplate is each version's own
page furniture: it is listed per version and never aligned, so a promo line repeating a
headline cannot steal the headline's counterpart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, Field, computed_field
from scipy.optimize import linear_sum_assignment

from model.labels import FRAMING, LABELS, STANCE
from model.predict import Prediction, Presslens, SentenceResult

DEFAULT_THRESHOLD = 0.6
"""Cosine similarity (MiniLM) from which two sentences anywhere in the story are counterparts."""
DEFAULT_GAP_THRESHOLD = 0.3
"""Cosine similarity from which two leftover sentences in the same place are counterparts."""


class StanceShift(BaseModel):
    """One target's stance in an aligned pair; ``None`` target is the overall stance."""

    target: str | None
    a: str | None = Field(description="Stance label in A; null when A's sentence lacks it.")
    b: str | None = Field(description="Stance label in B; null when B's sentence lacks it.")
    changed: bool


class PairComparison(BaseModel):
    """Two counterpart sentences (indices into each version's sentences) and what moved."""

    a: int
    b: int
    similarity: float
    by_position: bool = Field(
        description="Paired by the looser pass: same place in both versions, wording moved."
    )
    framing_a: str | None
    framing_b: str | None
    framing_changed: bool
    stance: list[StanceShift]
    stance_changed: bool
    strength: float = Field(
        description="Largest total-variation distance between the pair's framing or "
        "stance probabilities (0: identical, 1: disjoint); orders the changes."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def changed(self) -> bool:
        return self.framing_changed or self.stance_changed


class StanceSummary(BaseModel):
    """Stance shares over the content sentences that carry a stance on ``target``."""

    target: str | None = Field(description="Requested target; null: sentences naming none.")
    sentences: int
    shares: dict[str, float]


class VersionSummary(BaseModel):
    """One version as classified, with its own boilerplate and story-level shares."""

    sentences: list[SentenceResult]
    boilerplate: list[int] = Field(description="Indices of this version's boilerplate.")
    framing_shares: dict[str, float]
    stance: list[StanceSummary]


class Comparison(BaseModel):
    """What B changed in how A's story is told."""

    threshold: float
    gap_threshold: float
    targets: list[str]
    a: VersionSummary
    b: VersionSummary
    pairs: list[PairComparison] = Field(description="Aligned content sentences, in A's order.")
    removed: list[int] = Field(description="A's content sentences with no counterpart in B.")
    added: list[int] = Field(description="B's content sentences with no counterpart in A.")
    framing_shift: dict[str, float] = Field(description="B's framing shares minus A's.")
    changes: list[PairComparison] = Field(
        description="Pairs whose framing or stance label changed, strongest change first."
    )

    def rows(self) -> list[tuple[int | None, int | None]]:
        """Side-by-side rows (A index, B index): pairs and removed in A's order, each added
        sentence right after the row holding its nearest earlier B sentence."""
        rows: list[tuple[int | None, int | None]] = []
        partner = {p.a: p.b for p in self.pairs}
        removed = set(self.removed)
        for sentence in self.a.sentences:
            if sentence.index in partner or sentence.index in removed:
                rows.append((sentence.index, partner.get(sentence.index)))
        for added in sorted(self.added):
            before = [k for k, (_, b) in enumerate(rows) if b is not None and b < added]
            rows.insert(before[-1] + 1 if before else 0, (None, added))
        return rows


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


def compare(
    model: Presslens,
    text_a: str,
    text_b: str,
    targets: Sequence[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    gap_threshold: float = DEFAULT_GAP_THRESHOLD,
) -> Comparison:
    """Classify both versions in one batch, align their content sentences, and compare."""
    sentences_a, sentences_b = model.classify_many([text_a, text_b], [targets, targets])
    content_a, content_b = _content(sentences_a), _content(sentences_b)
    vectors = model.encoder.encode([s.text for s in content_a + content_b])
    return build_comparison(
        sentences_a, sentences_b, vectors[: len(content_a)], vectors[len(content_a) :],
        targets, threshold, gap_threshold,
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
    content_a, content_b = _content(sentences_a), _content(sentences_b)
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
        targets=_targets(targets),
        a=version_a,
        b=version_b,
        pairs=pairs,
        removed=[s.index for s in content_a if s.index not in paired_a],
        added=[s.index for s in content_b if s.index not in paired_b],
        framing_shift={
            label: _round(version_b.framing_shares[label] - version_a.framing_shares[label])
            for label in LABELS[FRAMING]
        },
        changes=sorted((p for p in pairs if p.changed), key=lambda p: (-p.strength, p.a, p.b)),
    )


def _targets(targets: Sequence[str]) -> list[str]:
    """Requested targets once each, blanks dropped (no sentence can mention a blank)."""
    return [t for t in dict.fromkeys(targets) if t.strip()]


def _content(sentences: list[SentenceResult]) -> list[SentenceResult]:
    return [s for s in sentences if not s.boilerplate]


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
        similarity=_round(similarity),
        by_position=by_position,
        framing_a=_label(a.framing),
        framing_b=_label(b.framing),
        framing_changed=_label(a.framing) != _label(b.framing),
        stance=shifts,
        stance_changed=any(s.changed for s in shifts),
        strength=_round(max(distances)),
    )


def _label(prediction: Prediction | None) -> str | None:
    return prediction.label if prediction else None


def _distance(a: Prediction | None, b: Prediction | None) -> float:
    """Total-variation distance between two predictions' probabilities."""
    if a is None or b is None:
        return 0.0
    labels = set(a.scores) | set(b.scores)
    return 0.5 * sum(abs(a.scores.get(k, 0.0) - b.scores.get(k, 0.0)) for k in labels)


def summarise(sentences: list[SentenceResult], targets: Sequence[str] = ()) -> VersionSummary:
    """A version's boilerplate, framing shares and stance shares per target."""
    content = _content(sentences)
    return VersionSummary(
        sentences=sentences,
        boilerplate=[s.index for s in sentences if s.boilerplate],
        framing_shares=_shares(
            [s.framing.label for s in content if s.framing], LABELS[FRAMING]
        ),
        stance=[stance_summary(content, t) for t in [*_targets(targets), None]],
    )


def stance_summary(content: list[SentenceResult], target: str | None) -> StanceSummary:
    labels = [p.label for s in content for p in s.stance if p.target == target]
    return StanceSummary(
        target=target, sentences=len(labels), shares=_shares(labels, LABELS[STANCE])
    )


def _shares(labels: list[str], names: Sequence[str]) -> dict[str, float]:
    total = len(labels)
    return {name: _round(labels.count(name) / total) if total else 0.0 for name in names}


def _round(value: float) -> float:
    return round(value, 4) + 0.0  # + 0.0 turns -0.0 into 0.0, so mirrored shifts print alike
