"""The docs the repository carries stay true to their sources."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_GUIDE = ROOT.parent / "shared" / "LABELS.md"


@pytest.mark.skipif(not SHARED_GUIDE.is_file(), reason=f"{SHARED_GUIDE} absent (a user's clone)")
def test_the_guide_in_the_repository_is_the_shared_one() -> None:
    assert (ROOT / "docs" / "LABELS.md").read_text(encoding="utf-8") == SHARED_GUIDE.read_text(
        encoding="utf-8"), "docs/LABELS.md differs from ../shared/LABELS.md: copy it over"
