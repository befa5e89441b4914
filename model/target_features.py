"""Stance features conditioned on a target mention (provisional: sentence + target span).

Prefixing the target to the text barely moves a frozen encoder's sentence vector; pooling
the contextual states of the target's own tokens does, because those states already mix
in what the sentence says about the target.
"""

from __future__ import annotations

import re

import numpy as np

DESCRIPTION = {
    "method": "concat(sentence mean-pool, mean of target-span token states)",
    "fallback": "no target or no mention: the sentence vector stands in for the target part",
}


def target_span(text: str, target: str) -> tuple[int, int] | None:
    """Character span of the first mention of ``target`` (case-insensitive, word-bounded)."""
    target = target.strip()
    if not target:
        return None
    match = re.search(rf"(?<!\w){re.escape(target)}(?!\w)", text, flags=re.IGNORECASE)
    if match is None:
        match = re.search(re.escape(target), text, flags=re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def pooled_features(
    token_embeddings: np.ndarray, offsets: np.ndarray, span: tuple[int, int] | None
) -> np.ndarray:
    """[sentence vector, target vector] for one sentence's token states."""
    real = offsets[:, 1] > offsets[:, 0]
    sentence = token_embeddings.mean(axis=0)
    target = sentence
    if span is not None:
        inside = real & (offsets[:, 0] < span[1]) & (offsets[:, 1] > span[0])
        if inside.any():
            target = token_embeddings[inside].mean(axis=0)
    return np.concatenate([sentence, target]).astype(np.float32)
