"""Features for the heads: one encoder pass per distinct (marked) sentence.

Framing sees the sentence vector, the mean of a middle layer's token states (which
encode who speaks and what the sentence does better than the last layer; see
``model.encoder``) and the lexical cues of ``cues`` (who speaks, what the sentence asks
for). Stance sees the sentence vector together with the pooled states of the marked target
mention (``target_features``), from the last and the middle layer, so the same sentence can
be supportive of one target and critical of another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.cues import cue_matrix
from model.encoder import Encoder, pool
from model.labels import FRAMING
from model.target_features import marked_text, pooled_features, target_span


@dataclass(frozen=True, slots=True)
class Unit:
    """One thing to label: a sentence, and optionally the target its stance is toward."""

    text: str
    target: str | None = None


def framing_features(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Per text (each distinct one encoded once): the sentence vector, the mean of the
    middle layer's token states (``model.encoder.middle_layer``), then the cue columns."""
    unique = list(dict.fromkeys(texts))
    vectors = {
        text: np.concatenate([pool(states, encoder.pooling), states.middle.mean(axis=0)])
        for text, states in zip(unique, encoder.token_states(unique), strict=True)
    }
    embedded = (np.stack([vectors[t] for t in texts]) if texts
                else np.zeros((0, 2 * encoder.dimension), dtype=np.float32))
    return np.hstack([embedded, cue_matrix(texts)])


def stance_features(encoder: Encoder, units: Sequence[Unit]) -> np.ndarray:
    """Target-conditioned stance features, one row per unit.

    A unit whose target is found is encoded with the mention marked, so the encoder's
    states know which entity the stance is asked about; any other unit is encoded as is
    and its sentence vector stands in for the target parts. The parts are pooled from the
    last layer and again from the middle one (``model.encoder.middle_layer``).
    """
    inputs: list[tuple[str, tuple[int, int] | None]] = []
    for unit in units:
        span = target_span(unit.text, unit.target) if unit.target else None
        inputs.append(marked_text(unit.text, span))
    texts = list(dict.fromkeys(text for text, _ in inputs))
    states = dict(zip(texts, encoder.token_states(texts), strict=True))
    rows = [
        np.concatenate([pooled_features(states[t].hidden, states[t].offsets, region),
                        pooled_features(states[t].middle, states[t].offsets, region)])
        for t, region in inputs
    ]
    return np.stack(rows)


def head_features(encoder: Encoder, units: Sequence[Unit], head: str) -> np.ndarray:
    """The feature matrix ``head`` is trained and applied on."""
    if head == FRAMING:
        return framing_features(encoder, [u.text for u in units])
    return stance_features(encoder, units)
