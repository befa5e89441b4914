"""Story-level summaries of one version: its boilerplate, framing and stance shares."""

from __future__ import annotations

from collections.abc import Sequence

from model.compare_results import StanceSummary, VersionSummary
from model.labels import FRAMING, LABELS, STANCE
from model.predict import SentenceResult


def summarise(sentences: list[SentenceResult], targets: Sequence[str] = ()) -> VersionSummary:
    """A version's boilerplate, framing shares and stance shares per target."""
    content = content_sentences(sentences)
    return VersionSummary(
        sentences=sentences,
        boilerplate=[s.index for s in sentences if s.boilerplate],
        framing_shares=_shares(
            [s.framing.label for s in content if s.framing], LABELS[FRAMING]
        ),
        stance=[stance_summary(content, t) for t in [*requested_targets(targets), None]],
    )


def stance_summary(content: list[SentenceResult], target: str | None) -> StanceSummary:
    labels = [p.label for s in content for p in s.stance if p.target == target]
    return StanceSummary(
        target=target, sentences=len(labels), shares=_shares(labels, LABELS[STANCE])
    )


def requested_targets(targets: Sequence[str]) -> list[str]:
    """Requested targets once each, blanks dropped (no sentence can mention a blank)."""
    return [t for t in dict.fromkeys(targets) if t.strip()]


def content_sentences(sentences: list[SentenceResult]) -> list[SentenceResult]:
    """The sentences a comparison aligns and summarises: all but the boilerplate."""
    return [s for s in sentences if not s.boilerplate]


def _shares(labels: list[str], names: Sequence[str]) -> dict[str, float]:
    total = len(labels)
    return {name: rounded(labels.count(name) / total) if total else 0.0 for name in names}


def rounded(value: float) -> float:
    return round(value, 4) + 0.0  # + 0.0 turns -0.0 into 0.0, so mirrored shifts print alike
