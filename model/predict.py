"""Label articles and sentences with a loaded model: the public face of ``model``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.artifact import ModelLoadError, load_heads, read_card, save_model
from model.card import ModelCard
from model.encoder import Encoder
from model.features import Unit, all_features, encode_units
from model.heads import Head
from model.labels import FRAMING, STANCE
from model.segment import split
from model.settings import core_settings
from model.target_features import target_span

# (units, head) -> that head's features: training passes its feature cache as one.
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
    chosen = core_settings().backend
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


@dataclass(frozen=True, slots=True)
class LabelledDocument:
    """One article's labelled sentences, with the sentence vectors of its content
    sentences (in order) from the same encoder call: what compare aligns on."""

    sentences: list[SentenceResult]
    vectors: np.ndarray


def make_encoder(card: ModelCard, model_dir: Path, backend: str) -> Encoder:
    """The encoder the card names, on the requested runtime, checked against the card."""
    if backend == "torch":
        from model.encoder import TorchEncoder

        encoder: Encoder = TorchEncoder(card.encoder.name, base=model_dir)
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
        heads: dict[str, Head],
        card: ModelCard,
        featurize: Featurizer | None = None,
        source: Path | None = None,
    ) -> None:
        self.encoder = encoder
        self.heads = heads
        self.card = card
        self.source = source  # the directory it was loaded from, None if built in memory
        # Training passes its feature cache here, so scoring held-out sets never re-embeds.
        self._featurize = featurize

    @classmethod
    def load(cls, model_dir: Path | str | None = None, backend: str | None = None) -> Presslens:
        """Load a model dir; ``backend`` None means ``default_backend(model_dir)``."""
        model_dir = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
        card = read_card(model_dir)
        heads = load_heads(model_dir, card)
        encoder = make_encoder(card, model_dir, backend or default_backend(model_dir))
        return cls(encoder, heads, card, source=model_dir)

    def save(self, out: Path | str) -> None:
        """Write this model as a model directory at ``out``, atomically and verified.

        New models are written by training (``training.trainer``); this writes a loaded
        one elsewhere, with the heads as it holds them.
        """
        if self.source is None:
            raise ValueError("this model was built in memory: training writes it to disk")
        save_model(Path(out), self.source, self.heads, self.card)

    def predict_units(
        self, units: Sequence[Unit], heads: Sequence[str] | None = None
    ) -> list[dict[str, Prediction]]:
        """Labels for each unit, taken as one sentence (not split); ``heads`` limits the work."""
        return self.label_units(units, heads)[0]

    def label_units(
        self, units: Sequence[Unit], heads: Sequence[str] | None = None
    ) -> tuple[list[dict[str, Prediction]], np.ndarray | None]:
        """Labels for each unit and the units' sentence vectors, from one encoder call
        (vectors are None when features come from a training cache)."""
        wanted = [h for h in self.heads if heads is None or h in heads]
        if not units:
            return [], None
        if self._featurize is None:
            features, vectors = all_features(self.encoder, units, wanted)
        else:
            features = {head: self._featurize(units, head) for head in wanted}
            vectors = None
        results: list[dict[str, Prediction]] = [{} for _ in units]
        texts = [u.text for u in units]
        for head in wanted:
            probabilities = self.heads[head].predict_proba(features[head], texts)
            for result, unit, row in zip(results, units, probabilities, strict=True):
                target = unit.target if head == STANCE else None
                result[head] = _prediction(self.heads[head].classes_, row, target)
        return results, vectors

    def classify(self, text: str, targets: Sequence[str] = ()) -> list[SentenceResult]:
        return self.classify_many([text], [targets])[0]

    def classify_many(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[list[SentenceResult]]:
        """Split and label several articles, encoding all their sentences in one batch."""
        return [d.sentences for d in self.label_documents(texts, targets)]

    def label_documents(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[LabelledDocument]:
        """``classify_many``, keeping each content sentence's vector from the same call."""
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
        labels, vectors = self.label_units(units)
        row_of: dict[int, int] = {}
        for i, (sentence, unit_labels) in enumerate(zip(owners, labels, strict=True)):
            sentence.framing = unit_labels.get(FRAMING)
            if STANCE in unit_labels:
                sentence.stance.append(unit_labels[STANCE])
            row_of.setdefault(id(sentence), i)
        return [LabelledDocument(doc, self._content_vectors(doc, vectors, row_of))
                for doc in documents]

    def _content_vectors(
        self, document: list[SentenceResult], vectors: np.ndarray | None, row_of: dict[int, int]
    ) -> np.ndarray:
        content = [s for s in document if not s.boilerplate]
        if not content:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        if vectors is None:  # features came from a training cache: encode once more
            texts = [s.text for s in content]
            encoded = encode_units(self.encoder, [Unit(t) for t in texts], [FRAMING])
            return encoded.sentence_vectors(texts)
        return vectors[[row_of[id(s)] for s in content]]


def mentioned_targets(sentence: str, targets: Sequence[str]) -> list[str]:
    """The requested targets this sentence names, in request order."""
    return [t for t in dict.fromkeys(targets) if t.strip() and target_span(sentence, t)]


def _prediction(classes: np.ndarray, row: np.ndarray, target: str | None) -> Prediction:
    best = int(np.argmax(row))
    scores = {str(label): round(float(p), 4) for label, p in zip(classes, row, strict=True)}
    return Prediction(str(classes[best]), round(float(row[best]), 4), scores, target)
