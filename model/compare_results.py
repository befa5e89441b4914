"""The shapes of a comparison of two versions, as the CLI prints them and the API answers.

``Changes`` holds the fields a ``Comparison`` and the API's compare response share; both
declare their own leading fields in a base listed after it, because pydantic orders
inherited fields from the last base to the first.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from model.predict import SentenceResult


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


class Changes(BaseModel):
    """What B did to A's content sentences: paired, removed, added, and what moved."""

    pairs: list[PairComparison] = Field(description="Aligned content sentences, in A's order.")
    removed: list[int] = Field(description="A's content sentences with no counterpart in B.")
    added: list[int] = Field(description="B's content sentences with no counterpart in A.")
    framing_shift: dict[str, float] = Field(description="B's framing shares minus A's.")
    changes: list[PairComparison] = Field(
        description="Pairs whose framing or stance label changed, strongest change first."
    )


class ComparedVersions(BaseModel):
    """A comparison's settings and its two versions: the fields before its ``Changes``."""

    threshold: float
    gap_threshold: float
    targets: list[str]
    a: VersionSummary
    b: VersionSummary


class Comparison(Changes, ComparedVersions):  # fields: ComparedVersions', then Changes'
    """What B changed in how A's story is told."""

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
