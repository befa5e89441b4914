"""How the report names a path: as the user would type it, never the build machine's."""

from __future__ import annotations

import os
from pathlib import Path


def shown(path: Path) -> str:
    """A path as the user would type it from here: relative to the working directory when
    it is inside it or beside it (``../shared/datasets``), else absolute."""
    relative = os.path.relpath(path.resolve())
    if not relative.startswith(f"..{os.sep}.."):
        return relative
    if path.resolve().is_relative_to(Path.home()):
        return f"~/{path.resolve().relative_to(Path.home())}"
    return str(path.resolve())
