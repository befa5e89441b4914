"""What an output directory records about itself and its runs (``manifest.json``), and the
shape of a refused row (``rejects.jsonl``): pydantic, since both are read back from disk."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

FORMAT = 1


class Reject(BaseModel):
    """One input row presslens did not label, and where to find it."""

    file: str
    line: int = Field(description="1-based line (JSON Lines, CSV) or row (Parquet); "
                                  "0 when the whole file could not be read")
    id: str | None = None
    reason: str
    record: str = Field("", description="the row as read, to fix and feed again")


class RunRecord(BaseModel):
    """One ``presslens score`` run into this directory."""

    started: datetime
    engine: str
    address: str | None = None
    workers: int = 1
    articles: int = 0
    sentences: int = 0
    rejects: int = 0
    already_written: int = 0
    wall_s: float = 0.0
    nodes: dict[str, int] = Field(default_factory=dict,
                                  description="node id -> articles its workers labelled")
    finished: bool = False


class Manifest(BaseModel):
    """Which model wrote the tables, their carried columns, and every run so far. A rerun
    must match the model and the carried columns, or the tables would mix two schemas."""

    format: int = FORMAT
    model_id: str
    model_version: str
    backend: str
    carried: list[str]
    runs: list[RunRecord] = Field(default_factory=list)
