"""The one place presslens reads its environment: ``PRESSLENS_*`` variables.

``core_settings()`` reads them on first use (never at import) and keeps the result; the
service's settings extend this class, and training takes its defaults from it. A test that
changes a variable calls ``core_settings.cache_clear()``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class CoreSettings(BaseSettings):
    """What the model and training need to know about this machine."""

    model_config = SettingsConfigDict(env_prefix="PRESSLENS_", protected_namespaces=(),
                                      extra="ignore")

    model_dir: Path | None = Field(
        None, description="Model directory to serve; unset: the embedded default model."
    )
    backend: str | None = Field(
        None, description="Encoder runtime passed to Presslens.load; unset: default_backend()."
    )
    threads: int | None = Field(
        None, ge=1, description="Intra-op threads of the torch-free encoder; unset: the CPUs "
        "this process may use (cgroup quota included)."
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "presslens",
        description="Training's feature and fine-tuned encoder cache.",
    )
    datasets: Path = Field(
        REPO_ROOT.parent / "shared" / "datasets",
        description="The shared real-news datasets (optional; skipped, saying so, when absent).",
    )


@lru_cache(maxsize=1)
def core_settings() -> CoreSettings:
    return CoreSettings()
