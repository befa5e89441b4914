"""The export's parity check: an exported encoder must embed as sentence-transformers does.

A fixed sample is embedded by torch and by every exported backend; an export below its
backend's floor is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from model.encoder import Encoder

# Minimum cosine similarity to sentence-transformers' embeddings, per backend.
MIN_COSINE = {"onnx": 0.999, "openvino": 0.999, "onnx-int8": 0.98}

# A fixed, varied sample of news-like sentences for the parity check: short and long,
# quotes, digits, accents, non-Latin script, and one text past the 256-token limit so
# truncation is compared too. (Texts of one word or bare punctuation are checked in the
# tests against the fp32 floor; int8 keeps only about 0.975 cosine on those.)
PARITY_SAMPLE: tuple[str, ...] = (
    "The council approved the budget on Tuesday.",
    "Critics called the plan “a disaster for working families.”",
    "Officials said 1,200 homes were without power after the storm.",
    "Ministers insist the reform will cut waiting lists by half within two years.",
    "Residents rallied outside city hall, demanding an end to the evictions.",
    "The company did not respond to requests for comment.",
    "Police said the suspect, 34, was arrested near the border.",
    "Opposition leaders accused the government of hiding the true cost of the project.",
    "In a statement, the ministry said the talks had been “constructive and frank”.",
    "Prices rose 3.4% in March, the fastest pace since 2023.",
    "We must act now, before it is too late for our children.",
    "São Paulo's mayor and Zürich's council signed the agreement.",
    "Москва и Тегеран подписали договор о стратегическом партнёрстве.",
    "He resigned.",
    "According to Reuters, the deal includes energy, trade and transport corridors, "
    "though analysts cautioned that the details remain vague and that previous accords "
    "between the two countries were never fully implemented.",
    " ".join(["The committee reviewed every clause of the long and detailed proposal again."] * 30),
)


def _cosines(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    return np.sum(reference * other, axis=1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(other, axis=1)
    )


def parity(reference: Encoder, candidate: Encoder, texts: Sequence[str]) -> dict[str, float]:
    """Cosine similarity of sentence vectors, and of every token state (last and middle
    layer), to the reference."""
    a, b = reference.encode(texts), candidate.encode(texts)
    sentence = _cosines(a, b)
    tokens = np.concatenate(
        [
            _cosines(states_a, states_b)
            for x, y in zip(reference.token_states(texts), candidate.token_states(texts),
                            strict=True)
            for states_a, states_b in ((x.hidden, y.hidden), (x.middle, y.middle))
        ]
    )
    return {
        "min_cosine": round(float(sentence.min()), 6),
        "mean_cosine": round(float(sentence.mean()), 6),
        "min_token_cosine": round(float(tokens.min()), 6),
    }


def checked_parity(
    reference: Encoder, candidate: Encoder, backend: str, sample: Sequence[str]
) -> dict[str, Any]:
    """``parity`` with the sample's size, digest and the floor, as the manifest records it.

    Raises ``ValueError`` when the backend's embeddings fall below its floor.
    """
    measured = parity(reference, candidate, sample)
    recorded = measured | {
        "sample": len(sample),
        "sample_sha256": hashlib.sha256("\n".join(sample).encode()).hexdigest(),
        "floor": MIN_COSINE[backend],
    }
    if measured["min_cosine"] < MIN_COSINE[backend]:
        raise ValueError(
            f"export {backend!r} fails parity: min cosine {measured['min_cosine']} to "
            f"sentence-transformers is below {MIN_COSINE[backend]}"
        )
    return recorded
