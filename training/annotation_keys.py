"""The key that names a third-party sentence without its text."""

import hashlib


def normalise(text: str) -> str:
    """Whitespace-normalised text, as ``../shared/datasets/README.md`` defines the key."""
    return " ".join(text.split())


def sentence_key(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()
