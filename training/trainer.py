"""The one way a model is trained: ``Trainer(config).run()``.

``presslens train`` and ``make model`` only fill in a ``TrainingConfig``. The run:
validate every input, fine-tune the encoder (unless ``frozen``), fit the calibrated heads
on its features, score held-out data and proxies, write the model directory atomically
(the fine-tuned encoder inside it), and export the torch-free serving encoder. Every
setting is recorded in the card, so a model says how it was made.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from model.artifact import check_replaceable, read_card
from model.card import ModelCard
from model.encoder import DEFAULT_ENCODER, TorchEncoder, file_sha256
from model.labels import FRAMING, STANCE
from model.settings import core_settings
from training.annotations import (
    ANNOTATIONS,
    LICENCES,
    RealSentence,
    load_real,
    of_split,
    real_rows,
)
from training.dataset import Dataset, SourceFile, load
from training.distill import teacher_examples
from training.finetune import Example, FinetuneConfig, finetune
from training.fit import HeadConfig, fit_model
from training.proxies import datasets_dir

ENCODER_DIR = "encoder"  # where a fine-tuned encoder lives inside a model directory
Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class TrainingConfig(BaseModel):
    """Everything a training run needs; the card records all of it but the paths."""

    model_config = ConfigDict(frozen=True)

    data: list[Path]
    out: Path
    eval: list[Path] = Field(default_factory=list)
    encoder: str = DEFAULT_ENCODER
    model_id: str = "presslens-custom"
    finetune: FinetuneConfig | None = Field(
        default_factory=FinetuneConfig,
        description="None keeps the encoder frozen (the fast path)")
    heads: HeadConfig = Field(default_factory=HeadConfig)
    real_news: bool = Field(
        False, description="add the train split of the project's real-news annotations "
        "(dev is kept for selection, test for the card)")
    annotations: Path = ANNOTATIONS
    teacher: Path | None = Field(
        None, description="a larger encoder's soft framing labels on unannotated real "
        "sentences (training.distill): fine-tuning learns from them, the heads do not")
    proxies: bool = True
    cache_dir: Path = Field(default_factory=lambda: core_settings().cache_dir)
    datasets_dir: Path = Field(default_factory=datasets_dir)
    export: bool = True

    def recorded(self) -> dict[str, Any]:
        """The settings that shape the model (not where files happen to be)."""
        recorded = self.model_dump(mode="json", exclude={"data", "out", "eval", "cache_dir",
                                                         "datasets_dir", "annotations",
                                                         "teacher"})
        if self.teacher is not None and self.teacher.is_file():
            recorded["teacher"] = {"file": self.teacher.name,
                                   "sha256": file_sha256(self.teacher)}
        return recorded


def real_sources(
    sentences: list[RealSentence], annotations: Path, datasets_dir: Path
) -> list[SourceFile]:
    """The annotations file and every shared dataset it joined, for the card."""
    used = sorted({s.dataset for s in sentences})
    name = "training/annotations/" + annotations.name
    files = [SourceFile(name, file_sha256(annotations), len(sentences),
                        "presslens real-news annotations (3 passes by LABELS.md)")]
    for name in used:
        path = datasets_dir / f"{name}.csv"
        files.append(SourceFile(f"../shared/datasets/{path.name}", file_sha256(path),
                                sum(s.dataset == name for s in sentences), LICENCES[name]))
    return files


def finetune_examples(dataset: Dataset) -> list[Example]:
    """One example per framing row and per stance row (with its target)."""
    examples = [Example(r.text, FRAMING, r.labels[FRAMING]) for r in dataset.for_head(FRAMING)]
    examples += [Example(r.text, STANCE, r.labels[STANCE], r.target)
                 for r in dataset.for_head(STANCE)]
    return examples


class Trainer:
    """Runs a ``TrainingConfig`` end to end; see the module docstring for the order."""

    def __init__(self, config: TrainingConfig, log: Log = _stderr) -> None:
        self.config = config
        self.log = log
        self.real: list[RealSentence] = []

    def dataset(self) -> Dataset:
        """Validated training data: the CSVs, plus the real-news train split when asked."""
        dataset = load(self.config.data)
        if not self.config.real_news:
            return dataset
        self.real = load_real(self.config.datasets_dir, self.config.annotations, self.log)
        chosen = of_split(self.real, "train")
        self.log(f"real-news annotations: {len(chosen)} train sentences; "
                 f"{len(of_split(self.real, 'dev'))} dev and "
                 f"{len(of_split(self.real, 'test'))} test sentences held out")
        return Dataset(dataset.rows + real_rows(chosen),
                       dataset.files + (real_sources(chosen, self.config.annotations,
                                                     self.config.datasets_dir)
                                        if chosen else []))

    def finetune_set(self, dataset: Dataset) -> list[Example]:
        """What the encoder fine-tunes on: the dataset, plus the teacher's soft labels."""
        examples = finetune_examples(dataset)
        if self.config.teacher is not None and self.config.finetune is not None:
            taught = teacher_examples(self.config.datasets_dir, self.config.teacher, self.log)
            self.log(f"teacher: {len(taught)} soft-labelled framing sentences")
            examples += taught
        return examples

    def encoder_dir(self, dataset: Dataset, work: Path) -> Path | None:
        """The fine-tuned encoder for this data and config (cached), or None if frozen."""
        settings = self.config.finetune
        if settings is None:
            return None
        base = TorchEncoder(self.config.encoder)
        digest = hashlib.sha256()
        digest.update(base.checksum.encode())
        digest.update(settings.model_dump_json().encode())
        examples = self.finetune_set(dataset)
        for example in examples:
            soft = "" if example.soft is None else f"\0{example.soft}"
            digest.update(f"{example.head}\0{example.text}\0{example.target}\0"
                          f"{example.label}{soft}\n".encode())
        cached = self.config.cache_dir / "finetuned" / digest.hexdigest()[:24]
        if (cached / "modules.json").is_file():
            self.log(f"fine-tuned encoder found in cache: {cached}")
            return cached
        staging = work / "finetuned"
        finetune(self.config.encoder, examples, staging, settings, self.log)
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, cached, dirs_exist_ok=True)
        return cached

    def run(self) -> ModelCard:
        """Train, write and export; returns the card as written (files and exports too)."""
        started = time.monotonic()
        check_replaceable(self.config.out)  # before an hour of fine-tuning, not after
        dataset = self.dataset()
        with tempfile.TemporaryDirectory(prefix="presslens-train-") as work:
            tuned = self.encoder_dir(dataset, Path(work))
            fit_model(
                dataset, self.config, tuned, self.real, log=self.log,
                extra_files={ENCODER_DIR: tuned} if tuned else {},
            )
        if self.config.export:
            from training.export import export_model_dir

            self.log("exporting the serving encoder (ONNX)")
            export_model_dir(self.config.out)
        self.log(f"trained {self.config.out} in {time.monotonic() - started:.0f} s")
        return read_card(self.config.out)
