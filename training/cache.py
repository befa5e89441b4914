"""A content-addressed cache of features, so refitting or tuning heads never re-embeds.

Keys hash the encoder's weights checksum, the head, the feature code's own source, the
text and (for stance) the target: change any of them and the entry is simply not found.
SQLite keeps it one file, safe against interrupted runs.
"""

from __future__ import annotations

import hashlib
import inspect
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from model import cues, features, target_features
from model.encoder import Encoder, middle_layer
from model.features import Unit, head_features
from model.labels import FRAMING
from model.settings import core_settings


def _code_version(head: str) -> str:
    """The source of the code that computes the head's features, and nothing else, so that
    changing one head's features leaves the other's cache valid."""
    if head == FRAMING:
        parts = [inspect.getsource(features.Encoded.framing), inspect.getsource(cues)]
    else:
        parts = [inspect.getsource(features.Encoded.stance), inspect.getsource(target_features)]
    parts.append(inspect.getsource(middle_layer))  # both heads read that layer
    return hashlib.sha256("".join(parts).encode()).hexdigest()[:16]


class FeatureCache:
    """Each head's features per unit, computed once per encoder and feature code."""

    def __init__(self, encoder: Encoder, cache_dir: Path | None = None) -> None:
        cache_dir = cache_dir or core_settings().cache_dir
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.encoder = encoder
        self._db = sqlite3.connect(cache_dir / "features.sqlite")
        self._db.execute("CREATE TABLE IF NOT EXISTS v (key TEXT PRIMARY KEY, vec BLOB)")

    def _key(self, head: str, unit: Unit) -> str:
        target = unit.target or "" if head != FRAMING else ""
        salt = f"{self.encoder.checksum}:{head}:{_code_version(head)}"
        return hashlib.sha256(f"{salt}\0{unit.text}\0{target}".encode()).hexdigest()

    def features(
        self,
        units: Sequence[Unit],
        head: str,
        progress: Callable[[int, int], None] | None = None,
        chunk: int = 256,
    ) -> np.ndarray:
        """The head's feature matrix; only units never seen before are embedded."""
        keys = [self._key(head, u) for u in units]
        found = self._lookup(set(keys))
        missing = list({key: i for i, key in enumerate(keys) if key not in found}.values())
        for first in range(0, len(missing), chunk):
            batch = [units[i] for i in missing[first : first + chunk]]
            vectors = head_features(self.encoder, batch, head).astype(np.float32)
            batch_keys = [keys[i] for i in missing[first : first + chunk]]
            found |= dict(zip(batch_keys, vectors, strict=True))
            self._db.executemany(
                "INSERT OR REPLACE INTO v VALUES (?, ?)",
                [(key, v.tobytes()) for key, v in zip(batch_keys, vectors, strict=True)],
            )
            self._db.commit()
            if progress:
                progress(min(first + chunk, len(missing)), len(missing))
        return np.stack([found[k] for k in keys])

    def _lookup(self, keys: set[str]) -> dict[str, np.ndarray]:
        found = {}
        wanted = list(keys)
        for first in range(0, len(wanted), 900):
            part = wanted[first : first + 900]
            marks = ",".join("?" * len(part))
            query = f"SELECT key, vec FROM v WHERE key IN ({marks})"
            for key, blob in self._db.execute(query, part):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found
