"""Export the sentence encoder for torch-free serving, and check it against torch.

One command re-creates a model's exports from the repo: ``presslens export --model DIR``.
Steps: load the encoder with sentence-transformers (``TorchEncoder``, as training does),
export its transformer with ``torch.onnx.export`` (inputs ``input_ids``, ``attention_mask``,
``token_type_ids``; output ``last_hidden_state``; batch and sequence axes dynamic), fuse the
graph for ONNX Runtime (attention, layer norms, GELU) into the fp32 file, quantize the
unfused graph's matrix multiplies to int8 with ``onnxruntime.quantization.quantize_dynamic``
for the int8 file, copy the tokenizer
and the sentence-transformers files that define pooling, then embed a fixed sample with
torch and with every exported backend and refuse an export below the parity floors.

The directory it writes (``<model_dir>/onnx/``) is read by ``model.onnx_encoder``;
``export.json`` inside it and the card's ``exports`` record the source encoder's checksum,
each file's sha256, the libraries used and the parity measured.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from model.encoder import DEFAULT_ENCODER, Encoder, TorchEncoder, file_sha256
from model.onnx_encoder import (
    BACKEND_FILES,
    EXPORT_DIR,
    EXPORT_MANIFEST,
    FP32_FILE,
    INT8_FILE,
    OUTPUTS,
    load_exported,
)

OPSET = 17
# Minimum cosine similarity to sentence-transformers' embeddings, per backend.
MIN_COSINE = {"onnx": 0.999, "openvino": 0.999, "onnx-int8": 0.98}
# The serving default, chosen by measurement (bench/encoders.py): the fastest backend that
# keeps parity. int8 is faster still but moves too many labels (see the card's notes), so
# the default runs the fp32 file, which ONNX Runtime ("onnx") and OpenVINO both read; an
# export ships that file only unless more backends are asked for. OpenVINO is recorded, and
# ``default_backend`` falls back to ONNX Runtime on CPUs without bf16, where it is faster.
SERVING_BACKEND = "openvino"
FP32_BACKENDS = ("openvino", "onnx")  # one file, two runtimes: exporting one records both
POOLING_FILES = ("modules.json", "sentence_bert_config.json", "config.json")
POLICY_NOTE = (
    "torch-free serving: ONNX Runtime on the exported transformer; tokenizers for tokens; "
    "pooling in numpy as sentence-transformers' pooling config defines it"
)

# A fixed, varied sample of news-like sentences for the parity check: short and long,
# quotes, digits, accents, non-Latin script, and one text past the 256-token limit so
# truncation is compared too. (Texts of one word or bare punctuation are checked in the
# tests against the fp32 floor; int8 keeps only about 0.975 cosine on those.)
PARITY_SAMPLE: tuple[str, ...] = (
    "The council approved the budget on Tuesday.",
    "Critics called the plan “a disaster for working families.”",
    "Officials said 1,200 homes were without power after the storm.",
    "Ministers insist the reform will cut waiting lists by half within two years.",
    "Residents rallied outside city hall, demanding an end to the evictions.",
    "The company did not respond to requests for comment.",
    "Police said the suspect, 34, was arrested near the border.",
    "Opposition leaders accused the government of hiding the true cost of the project.",
    "In a statement, the ministry said the talks had been “constructive and frank”.",
    "Prices rose 3.4% in March, the fastest pace since 2023.",
    "We must act now, before it is too late for our children.",
    "São Paulo's mayor and Zürich's council signed the agreement.",
    "Москва и Тегеран подписали договор о стратегическом партнёрстве.",
    "He resigned.",
    "According to Reuters, the deal includes energy, trade and transport corridors, "
    "though analysts cautioned that the details remain vague and that previous accords "
    "between the two countries were never fully implemented.",
    " ".join(["The committee reviewed every clause of the long and detailed proposal again."] * 30),
)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def export_torch_to_onnx(encoder: TorchEncoder, path: Path) -> None:
    """The transformer's last and middle hidden states as ONNX (outputs ``last_hidden_state``
    and ``middle_hidden_state``, see ``model.encoder.middle_layer``), with dynamic batch and
    sequence axes.

    Exported with eager attention through the TorchScript exporter: that graph is the one
    ONNX Runtime's transformer optimizer fuses into its Attention operator.
    """
    import torch

    model = encoder._transformer
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")

    middle = encoder.middle_layer

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            output = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                output_hidden_states=True,
            )
            return output.last_hidden_state, output.hidden_states[middle]

    sample = encoder._tokenizer(
        ["An example sentence to trace.", "A second, longer example sentence to trace."],
        padding=True,
        return_tensors="pt",
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, *OUTPUTS]}
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                HiddenStates().eval(),
                tuple(sample[name] for name in names),
                str(path),
                input_names=names,
                output_names=list(OUTPUTS),
                dynamic_axes=axes,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    finally:
        model.set_attn_implementation(previous)


def fuse_for_onnxruntime(source: Path, target: Path, config: dict[str, Any]) -> dict[str, int]:
    """Fuse attention, layer norms and GELU (ONNX Runtime's BERT optimizer), offline."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=1,
    )
    optimized.save_model_to_file(str(target))
    return {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8: weights per output channel, activations quantized per call at run time.

    Quantizes the unfused graph's constant-weight matrix multiplies and the embedding
    table, except each layer's FFN up-projection (``intermediate/dense``), whose input, a
    layer norm's output, has the outlier channels that cost the most accuracy per tensor.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    sensitive = [n.name for n in graph.node if n.op_type == "MatMul" and "intermediate" in n.name]
    quantize_dynamic(
        str(source),
        str(target),
        op_types_to_quantize=["MatMul", "Gather"],
        nodes_to_exclude=sensitive,
        per_channel=True,
        weight_type=QuantType.QInt8,
        extra_options={"MatMulConstBOnly": True, "DefaultTensorType": 1},  # 1: FLOAT
    )


def _cosines(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    return np.sum(reference * other, axis=1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(other, axis=1)
    )


def parity(reference: Encoder, candidate: Encoder, texts: Sequence[str]) -> dict[str, float]:
    """Cosine similarity of sentence vectors, and of every token state (last and middle
    layer), to the reference."""
    a, b = reference.encode(texts), candidate.encode(texts)
    sentence = _cosines(a, b)
    tokens = np.concatenate(
        [
            _cosines(states_a, states_b)
            for x, y in zip(reference.token_states(texts), candidate.token_states(texts),
                            strict=True)
            for states_a, states_b in ((x.hidden, y.hidden), (x.middle, y.middle))
        ]
    )
    return {
        "min_cosine": round(float(sentence.min()), 6),
        "mean_cosine": round(float(sentence.mean()), 6),
        "min_token_cosine": round(float(tokens.min()), 6),
    }


def export_encoder(
    out: Path,
    encoder: TorchEncoder | str = DEFAULT_ENCODER,
    backends: Iterable[str] = (SERVING_BACKEND,),
    default: str = SERVING_BACKEND,
    sample: Sequence[str] = PARITY_SAMPLE,
) -> dict[str, Any]:
    """Write an export directory at ``out`` for ``backends``; returns its manifest.

    Raises ``ValueError`` when a backend's embeddings fall below its parity floor. If the
    requested default is not among the written backends, the first written one is used.
    """
    backends = list(dict.fromkeys(backends))
    unknown = [b for b in backends if b not in BACKEND_FILES]
    if unknown or not backends:
        raise ValueError(f"unknown export backends {unknown}; choose from {list(BACKEND_FILES)}")
    if set(FP32_BACKENDS) & set(backends):
        runnable = [b for b in FP32_BACKENDS if b != "openvino" or _version("openvino")]
        backends = list(dict.fromkeys([*backends, *runnable]))
    if isinstance(encoder, str):
        encoder = TorchEncoder(encoder)
    source = encoder.path
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty: export into a new directory")
    out.mkdir(parents=True, exist_ok=True)
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="presslens-export-") as work:
        raw, fused = Path(work) / "raw.onnx", Path(work) / "fused.onnx"
        export_torch_to_onnx(encoder, raw)
        fusion = fuse_for_onnxruntime(raw, fused, config)
        if {"onnx", "openvino"} & set(backends):
            shutil.copyfile(fused, out / FP32_FILE)
        if "onnx-int8" in backends:
            quantize_int8(raw, out / INT8_FILE)
    _copy_model_files(source, out)
    manifest: dict[str, Any] = {
        "source": {
            "name": encoder.name,
            "checksum": encoder.checksum,
            "dimension": encoder.dimension,
            "pooling": encoder.pooling.mode,
            "normalize": encoder.pooling.normalize,
            "max_seq_length": encoder.pooling.max_seq_length,
            "middle_layer": encoder.middle_layer,
        },
        "default": default if default in backends else backends[0],
        "backends": {b: {"file": BACKEND_FILES[b]} for b in backends},
        "opset": OPSET,
        "fused_operators": fusion,
        "quantization": "dynamic int8 (per-channel int8 weights; FFN up-projections in fp32)",
        "libraries": {
            name: version
            for name in ("torch", "transformers", "onnx", "onnxruntime", "tokenizers", "openvino")
            if (version := _version(name))
        },
    }
    _write_manifest(out, manifest)
    sample_digest = hashlib.sha256("\n".join(sample).encode()).hexdigest()
    for backend in backends:
        measured = parity(encoder, load_exported(out, backend), sample)
        manifest["backends"][backend]["parity"] = measured | {
            "sample": len(sample),
            "sample_sha256": sample_digest,
            "floor": MIN_COSINE[backend],
        }
        if measured["min_cosine"] < MIN_COSINE[backend]:
            raise ValueError(
                f"export {backend!r} fails parity: min cosine {measured['min_cosine']} to "
                f"sentence-transformers is below {MIN_COSINE[backend]}"
            )
    manifest["files"] = {
        p.relative_to(out).as_posix(): file_sha256(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != EXPORT_MANIFEST
    }
    _write_manifest(out, manifest)
    return manifest


def _copy_model_files(source: Path, out: Path) -> None:
    """tokenizer.json and the sentence-transformers files that define pooling."""
    shutil.copyfile(source / "tokenizer.json", out / "tokenizer.json")
    for name in POOLING_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
    modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    for module in modules:
        if module["type"].endswith("Pooling") and module["path"]:
            (out / module["path"]).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / module["path"] / "config.json",
                            out / module["path"] / "config.json")


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out / EXPORT_MANIFEST).write_text(text, encoding="utf-8")


def card_exports(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the model card records: the manifest, with paths relative to the model dir."""
    files = {f"{EXPORT_DIR}/{name}": sha for name, sha in manifest["files"].items()}
    return {
        "dir": EXPORT_DIR,
        "source_checksum": manifest["source"]["checksum"],
        "source_name": manifest["source"]["name"],
        "default": manifest["default"],
        "backends": manifest["backends"],
        "opset": manifest["opset"],
        "quantization": manifest["quantization"],
        "libraries": manifest["libraries"],
        "files": files,
        "note": POLICY_NOTE,
    }


def export_model_dir(
    model_dir: Path,
    backends: Iterable[str] = (SERVING_BACKEND,),
    default: str = SERVING_BACKEND,
) -> dict[str, Any]:
    """Re-write ``model_dir`` atomically with fresh exports, keeping its heads and card.

    The encoder is the one the card names; its weights must match the card's checksum.
    Returns the card's new ``exports`` entry.
    """
    from model.artifact import (
        ModelLoadError,
        arrays_file,
        head_file,
        load_heads,
        read_card,
        write_model,
    )

    card = read_card(model_dir)
    heads = load_heads(model_dir, card, estimators=True)
    encoder = TorchEncoder(card.encoder.name)
    if encoder.checksum != card.encoder.checksum:
        raise ModelLoadError(
            f"encoder mismatch: the card names weights {card.encoder.checksum[:12]}…, but "
            f"{card.encoder.name!r} resolves to {encoder.checksum[:12]}…"
        )
    heads_files = {name for h in heads for name in (head_file(h), arrays_file(h))}
    with tempfile.TemporaryDirectory(prefix="presslens-extra-") as work:
        extra = Path(work)
        for name in card.files:  # keep any other listed file; old exports are replaced
            if name in heads_files or name.split("/")[0] == EXPORT_DIR:
                continue
            (extra / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(model_dir / name, extra / name)
        manifest = export_encoder(extra / EXPORT_DIR, encoder, backends, default)
        exports = card_exports(manifest)
        write_model(model_dir, heads, card.model_copy(update={"exports": exports}), extra=extra)
    return exports
