"""Features for the heads, from one encoder pass per distinct sentence.

Framing sees the sentence vector. Stance sees the sentence vector together with the
pooled states of the target's tokens and their neighbourhood (``target_features``), so
the same sentence can be supportive of one target and critical of another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.encoder import Encoder, TokenStates, pool
from model.target_features import pooled_features, target_span


@dataclass(frozen=True, slots=True)
class Unit:
    """One thing to label: a sentence, and optionally the target its stance is toward."""

    text: str
    target: str | None = None


def sentence_features(encoder: Encoder, states: TokenStates) -> np.ndarray:
    return pool(states, encoder.pooling)


def stance_features(states: TokenStates, text: str, target: str | None) -> np.ndarray:
    span = target_span(text, target) if target else None
    return pooled_features(states.hidden, states.offsets, span)


def unit_features(encoder: Encoder, units: Sequence[Unit]) -> tuple[np.ndarray, np.ndarray]:
    """(framing features, stance features), one row per unit; each text encoded once."""
    texts = list(dict.fromkeys(unit.text for unit in units))
    states = dict(zip(texts, encoder.token_states(texts), strict=True))
    framing = np.stack([sentence_features(encoder, states[u.text]) for u in units])
    stance = np.stack([stance_features(states[u.text], u.text, u.target) for u in units])
    return framing, stance
