"""Export the sentence encoder for torch-free serving, and check it against torch.

One command re-creates a model's exports from the repo: ``presslens export --model DIR``.
Steps: load the encoder with sentence-transformers (``TorchEncoder``, as training does),
export, fuse and quantize its transformer (``training.onnx_graph``), copy the tokenizer
and the sentence-transformers files that define pooling, then embed a fixed sample with
torch and with every exported backend and refuse an export below the parity floors
(``training.export_parity``).

The directory it writes (``<model_dir>/onnx/``) is read by ``model.onnx_encoder``;
``export.json`` inside it and the card's ``exports`` record the source encoder's checksum,
each file's sha256, the libraries used and the parity measured.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from model.encoder import DEFAULT_ENCODER, TorchEncoder, file_sha256
from model.onnx_encoder import (
    BACKEND_FILES,
    EXPORT_DIR,
    EXPORT_MANIFEST,
    FP32_FILE,
    INT8_FILE,
    load_exported,
)
from training.export_parity import PARITY_SAMPLE, checked_parity
from training.onnx_graph import OPSET, export_torch_to_onnx, fuse_for_onnxruntime, quantize_int8

# The serving default, chosen by measurement (bench/encoders.py): the fastest backend that
# keeps parity. int8 is faster still but moves too many labels (see the card's notes), so
# the default runs the fp32 file, which ONNX Runtime ("onnx") and OpenVINO both read; an
# export ships that file only unless more backends are asked for. OpenVINO is recorded, and
# ``default_backend`` falls back to ONNX Runtime on CPUs without bf16, where it is faster.
SERVING_BACKEND = "openvino"
FP32_BACKENDS = ("openvino", "onnx")  # one file, two runtimes: exporting one records both
POOLING_FILES = ("modules.json", "sentence_bert_config.json", "config.json",
                 "tokenizer_config.json")
POLICY_NOTE = (
    "torch-free serving: ONNX Runtime on the exported transformer; tokenizers for tokens; "
    "pooling in numpy as sentence-transformers' pooling config defines it"
)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


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
    for backend in backends:
        manifest["backends"][backend]["parity"] = checked_parity(
            encoder, load_exported(out, backend), backend, sample)
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
        load_estimators,
        read_card,
        write_model,
    )

    card = read_card(model_dir)
    heads = load_estimators(model_dir, card)
    encoder = TorchEncoder(card.encoder.name, base=model_dir)
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
