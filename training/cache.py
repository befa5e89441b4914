"""A content-addressed cache of features, so refitting or tuning heads never re-embeds.

Keys hash the encoder's weights checksum, the feature code's own source, the text and
the target: change any of them and the entry is simply not found. SQLite keeps it one
file, safe against interrupted runs.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from model import features, target_features
from model.encoder import Encoder
from model.features import Unit, unit_features

DEFAULT_CACHE_DIR = Path(os.environ.get("PRESSLENS_CACHE_DIR", Path.home() / ".cache/presslens"))


def _code_version() -> str:
    source = inspect.getsource(features) + inspect.getsource(target_features)
    return hashlib.sha256(source.encode()).hexdigest()[:16]


class FeatureCache:
    """Framing and stance features per unit, computed once per encoder and feature code."""

    def __init__(self, encoder: Encoder, cache_dir: Path = DEFAULT_CACHE_DIR) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.encoder = encoder
        self._salt = f"{encoder.checksum}:{_code_version()}"
        self._db = sqlite3.connect(cache_dir / "features.sqlite")
        self._db.execute("CREATE TABLE IF NOT EXISTS f (key TEXT PRIMARY KEY, vec BLOB, split INT)")

    def _key(self, unit: Unit) -> str:
        payload = f"{self._salt}\0{unit.text}\0{unit.target or ''}"
        return hashlib.sha256(payload.encode()).hexdigest()

    def features(
        self,
        units: Sequence[Unit],
        progress: Callable[[int, int], None] | None = None,
        chunk: int = 256,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(framing, stance) feature matrices; only units never seen before are embedded."""
        keys = [self._key(u) for u in units]
        found = self._lookup(set(keys))
        missing = [i for i, key in enumerate(keys) if key not in found]
        for first in range(0, len(missing), chunk):
            batch = [units[i] for i in missing[first : first + chunk]]
            framing, stance = unit_features(self.encoder, batch)
            rows = []
            for unit, f, s in zip(batch, framing, stance, strict=True):
                key = self._key(unit)
                found[key] = (f, s)
                rows.append((key, np.concatenate([f, s]).astype(np.float32).tobytes(), len(f)))
            self._db.executemany("INSERT OR REPLACE INTO f VALUES (?, ?, ?)", rows)
            self._db.commit()
            if progress:
                progress(min(first + chunk, len(missing)), len(missing))
        return (
            np.stack([found[k][0] for k in keys]),
            np.stack([found[k][1] for k in keys]),
        )

    def _lookup(self, keys: set[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        found = {}
        wanted = list(keys)
        for first in range(0, len(wanted), 900):
            part = wanted[first : first + 900]
            marks = ",".join("?" * len(part))
            query = f"SELECT key, vec, split FROM f WHERE key IN ({marks})"
            for key, blob, split in self._db.execute(query, part):
                vector = np.frombuffer(blob, dtype=np.float32)
                found[key] = (vector[:split], vector[split:])
        return found
