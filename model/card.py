"""The model card: what a model is, what it was trained on, how well it does.

The card is also the artifact's manifest: loading trusts a file only if its sha256
is listed here, and refuses a card written for another encoder or library version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from pydantic import BaseModel, Field

FORMAT_VERSION = 1
# Libraries whose major.minor must match between training and loading: the heads are
# scikit-learn objects, and their serialised form is only promised within a release.
PINNED_LIBRARIES = ("scikit-learn",)
RECORDED_LIBRARIES = (
    "presslens",
    "scikit-learn",
    "numpy",
    "skops",
    "sentence-transformers",
    "torch",
    "transformers",
    "onnxruntime",
    "tokenizers",
)


class EncoderInfo(BaseModel):
    name: str
    checksum: str = Field(description="sha256 over the encoder's weight files")
    dimension: int
    pooling: str
    normalize: bool
    max_seq_length: int


class TrainingFile(BaseModel):
    path: str
    sha256: str
    rows: int
    source: str


class ModelCard(BaseModel):
    """Everything needed to trust, reproduce and cite a presslens model."""

    format_version: int = FORMAT_VERSION
    model_id: str = "presslens-default"
    version: str
    created_at: str
    labels: dict[str, list[str]]
    encoder: EncoderInfo
    stance_conditioning: dict[str, Any] = Field(default_factory=dict)
    libraries: dict[str, str]
    training_files: list[TrainingFile]
    files: dict[str, str] = Field(description="file name in the artifact -> sha256")
    metrics: dict[str, Any] = Field(default_factory=dict)
    exports: dict[str, Any] = Field(default_factory=dict)
    lexical: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="head -> its n-gram model beside the embedding head: file, weight",
    )
    training: dict[str, Any] = Field(
        default_factory=dict, description="the training run's settings (TrainingConfig)")
    notes: list[str] = Field(default_factory=list)


def library_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def incompatible_libraries(card: ModelCard) -> list[str]:
    """Libraries whose installed major.minor differs from the one the model was built with."""
    problems = []
    for name in PINNED_LIBRARIES:
        trained = card.libraries.get(name)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if trained and _major_minor(trained) != _major_minor(installed):
            problems.append(f"{name} {installed} is installed, the model needs {trained}")
    return problems


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def render_markdown(card: ModelCard) -> str:
    """A readable page of the card, written beside card.json."""
    lines = [
        f"# Model card: {card.model_id} {card.version}",
        "",
        f"Created {card.created_at}. Encoder `{card.encoder.name}` "
        f"(sha256 of weights `{card.encoder.checksum[:16]}…`, {card.encoder.dimension} dims, "
        f"{card.encoder.pooling} pooling).",
        "",
        "The latest evaluation report of the shipped model (per-class figures with bootstrap",
        "intervals, confusion matrices, reliability diagrams, errors, a TF-IDF baseline and the",
        "dataset proxies) is `reports/default/report.html` in the repository, rebuilt with",
        "`presslens evaluate --data training/data/test.csv --report reports/default`.",
        "",
        "## Labels",
        "",
        *[f"- **{head}**: " + ", ".join(f"`{x}`" for x in xs) for head, xs in card.labels.items()],
        "",
        "## Stance conditioning",
        "",
        "```json",
        _json(card.stance_conditioning),
        "```",
        "",
        *([
            "## N-gram models beside the embedding heads",
            "",
            "```json",
            _json(card.lexical),
            "```",
            "",
        ] if card.lexical else []),
        "## Training data",
        "",
        "| file | rows | sha256 | source |",
        "|---|---|---|---|",
        *[
            f"| `{f.path}` | {f.rows} | `{f.sha256[:12]}…` | {f.source} |"
            for f in card.training_files
        ],
        "",
        "## Metrics",
        "",
        "```json",
        _json(card.metrics),
        "```",
        "",
        "## Libraries",
        "",
        *[f"- {name} {version}" for name, version in sorted(card.libraries.items())],
    ]
    if card.exports:
        lines += ["", "## Exported encoders", "", "```json", _json(card.exports), "```"]
    if card.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in card.notes]]
    return "\n".join(lines) + "\n"


def _json(value: object) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True)
