"""Features for the heads: one encoder call per batch, one pass per distinct text.

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
from model.encoder import Encoder, TokenStates, pool
from model.labels import FRAMING, STANCE
from model.target_features import marked_text, pooled_features, target_span


@dataclass(frozen=True, slots=True)
class Unit:
    """One thing to label: a sentence, and optionally the target its stance is toward."""

    text: str
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Encoded:
    """Token states of every distinct text a batch of units needs, from one encoder call.

    Framing reads each unit's plain sentence; stance reads the sentence with its target
    marked, or the plain sentence when there is no target: the two heads share one
    encoding wherever their inputs coincide, and compare's alignment reads the same
    sentence vectors.
    """

    states: dict[str, TokenStates]
    marked: list[tuple[str, tuple[int, int] | None]]  # per unit, stance's input
    encoder: Encoder

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of what each sentence says, for compare's alignment: the mean of
        the middle layer's token states.

        Fine-tuning turns the last layer into a framing and stance detector, so two
        sentences with the same framing look alike there whatever they report; the middle
        layer moves less and still says what a sentence is about (with the fine-tuned
        default, it pairs the seed rewrite's sentences as a reader does; the last layer
        missed three of those pairs).
        """
        if not texts:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        means = np.stack([self.states[t].middle.mean(axis=0) for t in texts])
        return (means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
                ).astype(np.float32)

    def framing(self, texts: Sequence[str]) -> np.ndarray:
        """Per text: the sentence vector, the mean of the middle layer's token states
        (``model.encoder.middle_layer``), then the cue columns."""
        embedded = [np.concatenate([pool(self.states[t], self.encoder.pooling),
                                    self.states[t].middle.mean(axis=0)]) for t in texts]
        width = 2 * self.encoder.dimension
        matrix = np.stack(embedded) if embedded else np.zeros((0, width), dtype=np.float32)
        return np.hstack([matrix, cue_matrix(texts)])

    def stance(self) -> np.ndarray:
        """Per unit: the marked target's parts pooled from the last and the middle layer;
        with no target found, the sentence vector stands in for them."""
        rows = []
        for text, region in self.marked:
            states = self.states[text]
            rows.append(np.concatenate([
                pooled_features(states.hidden, states.offsets, region),
                pooled_features(states.middle, states.offsets, region)]))
        return np.stack(rows)


def encode_units(encoder: Encoder, units: Sequence[Unit], heads: Sequence[str]) -> Encoded:
    """One encoder call over the distinct texts ``heads`` need for ``units``."""
    marked = [
        marked_text(u.text, target_span(u.text, u.target) if u.target else None)
        for u in units
    ] if STANCE in heads else []
    needed = [u.text for u in units] if FRAMING in heads else []
    needed += [text for text, _ in marked]
    texts = list(dict.fromkeys(needed))
    states = dict(zip(texts, encoder.token_states(texts), strict=True))
    return Encoded(states, marked, encoder)


def head_features(encoder: Encoder, units: Sequence[Unit], head: str) -> np.ndarray:
    """The feature matrix ``head`` is trained and applied on."""
    encoded = encode_units(encoder, units, [head])
    return encoded.framing([u.text for u in units]) if head == FRAMING else encoded.stance()


def all_features(
    encoder: Encoder, units: Sequence[Unit], heads: Sequence[str]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every requested head's features and the units' sentence vectors, one encoding."""
    encoded = encode_units(encoder, units, [*heads, FRAMING])
    texts = [u.text for u in units]
    features = {head: encoded.framing(texts) if head == FRAMING else encoded.stance()
                for head in heads}
    return features, encoded.sentence_vectors(texts)
