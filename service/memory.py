"""Hand freed heap memory back to the system after a burst.

glibc's malloc keeps memory that Python and the encoder free in its arenas (one per thread
that allocated), so a process that once labelled a large batch keeps that batch's peak
resident set for good: 400 MB after one 25,000-sentence request. ``malloc_trim(0)`` returns
the free pages of every arena; it takes milliseconds, and the batcher calls it when it
falls idle (at most once a second). Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_memory() -> bool:
    """Return free heap pages to the system; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
