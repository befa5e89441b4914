"""Label articles and sentences with a loaded model: the public face of ``model``."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from model.artifact import ModelLoadError, load_heads, read_card
from model.card import ModelCard
from model.encoder import Encoder
from model.features import Unit, head_features
from model.labels import FRAMING, STANCE
from model.segment import split
from model.target_features import target_span

Featurizer = Callable[[Sequence[Unit], str], np.ndarray]
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino")
EXPORTED_BACKENDS = BACKENDS[1:]  # torch-free: they run files from <model_dir>/onnx/


def _openvino_pays_off() -> bool:
    from model.onnx_encoder import cpu_has_bf16

    return importlib.util.find_spec("openvino") is not None and cpu_has_bf16()


def default_backend(model_dir: Path | str | None = None) -> str:
    """``PRESSLENS_BACKEND`` when set; else the model's exported serving backend (the fastest
    that passed parity, recorded in the card's ``exports``; OpenVINO only where it is
    installed and the CPU has bf16, else ONNX Runtime on the same file) when its file is in
    the model dir; else the reference torch backend."""
    chosen = os.environ.get("PRESSLENS_BACKEND")
    if chosen:
        return chosen
    model_dir = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
    try:
        exports = read_card(model_dir).exports
    except ModelLoadError:
        return "torch"
    backends = exports.get("backends", {})
    backend = exports.get("default")
    if backend == "openvino" and not _openvino_pays_off():
        backend = "onnx"  # ONNX Runtime runs the same fp32 file
    file = backends.get(backend, {}).get("file")
    exported = model_dir / exports.get("dir", "onnx") / str(file)
    return str(backend) if backend in EXPORTED_BACKENDS and file and exported.is_file() else "torch"


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    confidence: float
    scores: dict[str, float]
    target: str | None = None


@dataclass(slots=True)
class SentenceResult:
    index: int
    start: int
    end: int
    text: str
    boilerplate: bool
    framing: Prediction | None = None
    stance: list[Prediction] = field(default_factory=list)


def make_encoder(card: ModelCard, model_dir: Path, backend: str) -> Encoder:
    """The encoder the card names, on the requested runtime, checked against the card."""
    if backend == "torch":
        from model.encoder import TorchEncoder

        encoder: Encoder = TorchEncoder(card.encoder.name)
    elif backend in EXPORTED_BACKENDS:
        encoder = _exported_encoder(card, model_dir, backend)
    else:
        raise ModelLoadError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if encoder.checksum != card.encoder.checksum:
        raise ModelLoadError(
            f"encoder mismatch: the model was trained with {card.encoder.name!r} "
            f"(weights sha256 {card.encoder.checksum[:12]}…), but {encoder.name!r} resolves to "
            f"weights {encoder.checksum[:12]}…; retrain or point the encoder at the right model"
        )
    return encoder


def _exported_encoder(card: ModelCard, model_dir: Path, backend: str) -> Encoder:
    """A torch-free encoder from the model's exports, which must come from the card's encoder."""
    from model.onnx_encoder import ExportError, load_exported

    source = card.exports.get("source_checksum")
    if source is None:
        raise ModelLoadError(
            f"{model_dir} has no exported encoder for backend {backend!r}; run "
            f"`presslens export --model {model_dir}` or use PRESSLENS_BACKEND=torch"
        )
    if source != card.encoder.checksum:
        raise ModelLoadError(
            f"encoder mismatch: the exports in {model_dir} were made from weights "
            f"{source[:12]}…, but the model was trained with {card.encoder.checksum[:12]}…; "
            f"re-run `presslens export --model {model_dir}`"
        )
    try:
        return load_exported(model_dir / card.exports.get("dir", "onnx"), backend)
    except (ExportError, ImportError) as error:
        raise ModelLoadError(f"backend {backend!r}: {error}") from error


class Presslens:
    """A loaded model: encoder plus one calibrated head per label."""

    def __init__(
        self,
        encoder: Encoder,
        heads: dict[str, Any],
        card: ModelCard,
        featurize: Featurizer | None = None,
    ) -> None:
        self.encoder = encoder
        self.heads = heads
        self.card = card
        # Training passes its feature cache here, so scoring held-out sets never re-embeds.
        self._featurize = featurize or partial(head_features, encoder)

    @classmethod
    def load(cls, model_dir: Path | str | None = None, backend: str | None = None) -> Presslens:
        """Load a model dir; ``backend`` None means ``default_backend(model_dir)``."""
        model_dir = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
        card = read_card(model_dir)
        heads = load_heads(model_dir, card)
        encoder = make_encoder(card, model_dir, backend or default_backend(model_dir))
        return cls(encoder, heads, card)

    def predict_units(
        self, units: Sequence[Unit], heads: Sequence[str] | None = None
    ) -> list[dict[str, Prediction]]:
        """Labels for each unit, taken as one sentence (not split); ``heads`` limits the work."""
        if not units:
            return []
        results: list[dict[str, Prediction]] = [{} for _ in units]
        for head, estimator in self.heads.items():
            if heads is not None and head not in heads:
                continue
            features = self._featurize(units, head)
            if getattr(estimator, "reads_text", False):  # a CombinedHead (model.lexical)
                probabilities = estimator.predict_proba(features, [u.text for u in units])
            else:
                probabilities = estimator.predict_proba(features)
            for result, unit, row in zip(results, units, probabilities, strict=True):
                target = unit.target if head == STANCE else None
                result[head] = _prediction(estimator.classes_, row, target)
        return results

    def classify(self, text: str, targets: Sequence[str] = ()) -> list[SentenceResult]:
        return self.classify_many([text], [targets])[0]

    def classify_many(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[list[SentenceResult]]:
        """Split and label several articles, encoding all their sentences in one batch."""
        targets = targets if targets is not None else [()] * len(texts)
        documents: list[list[SentenceResult]] = []
        units: list[Unit] = []
        owners: list[SentenceResult] = []
        for text, doc_targets in zip(texts, targets, strict=True):
            sentences = [
                SentenceResult(i, s.start, s.end, s.text, s.boilerplate)
                for i, s in enumerate(split(text))
            ]
            documents.append(sentences)
            for sentence in sentences:
                if sentence.boilerplate:
                    continue
                for target in mentioned_targets(sentence.text, doc_targets) or [None]:
                    units.append(Unit(sentence.text, target))
                    owners.append(sentence)
        for sentence, _unit, labels in zip(owners, units, self.predict_units(units), strict=True):
            sentence.framing = labels.get(FRAMING)
            if STANCE in labels:
                sentence.stance.append(labels[STANCE])
        return documents


def mentioned_targets(sentence: str, targets: Sequence[str]) -> list[str]:
    """The requested targets this sentence names, in request order."""
    return [t for t in dict.fromkeys(targets) if t.strip() and target_span(sentence, t)]


def _prediction(classes: np.ndarray, row: np.ndarray, target: str | None) -> Prediction:
    best = int(np.argmax(row))
    scores = {str(label): round(float(p), 4) for label, p in zip(classes, row, strict=True)}
    return Prediction(str(classes[best]), round(float(row[best]), 4), scores, target)
