"""Torch-free encoders for serving: the exported transformer on ONNX Runtime or OpenVINO.

Nothing here imports torch, transformers or sentence-transformers. Tokenization is the
``tokenizers`` library reading the model's own ``tokenizer.json``, truncated to the
sentence-transformers ``max_seq_length``; each batch is cut into runs of similar length
(``length_runs``), each padded only to its own longest text, which saves most of the
padding a mixed batch of 64 carries. Inference returns the last hidden state and the
middle layer's (``OUTPUTS``), and pooling is the shared numpy ``pool()``, so the sentence
vectors and the heads' token states match the torch backend.

An export directory (written by ``training.export``; ``<model_dir>/onnx/`` in a model) holds
``export.json`` (the source encoder's name and weight checksum, and which file each backend
runs), ``tokenizer.json``, the sentence-transformers config files that define pooling
(``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/config.json``) and the ONNX
files themselves.

Threads: the runtimes use one intra-op thread per CPU this process may run on — the CPU
affinity mask (``docker run --cpuset-cpus``), capped by a cgroup CPU quota
(``docker run --cpus=N``, read from ``/sys/fs/cgroup/cpu.max``). ``PRESSLENS_THREADS=N``
overrides both; set it to N for a container limited to N CPUs when the limit is not visible
from inside (e.g. a Kubernetes CPU limit on cgroup v1).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model.encoder import Encoder, PoolingConfig, TokenStates

EXPORT_MANIFEST = "export.json"
EXPORT_DIR = "onnx"
# Per-call cost of one inference run, in padded-token equivalents (see length_runs); 64 was
# as fast as any on the seed sentences (0 to 1024 tried).
RUN_OVERHEAD_TOKENS = 64
FP32_FILE = "model.onnx"
# The graph's outputs, in order: the last hidden state and ``model.encoder.middle_layer``'s.
OUTPUTS = ("last_hidden_state", "middle_hidden_state")
INT8_FILE = "model_int8.onnx"
# Which ONNX file each torch-free backend runs, and on which runtime.
BACKEND_FILES: dict[str, str] = {"onnx": FP32_FILE, "onnx-int8": INT8_FILE, "openvino": FP32_FILE}


class ExportError(RuntimeError):
    """An export directory that is missing or incomplete for the requested backend."""


def cpu_threads() -> int:
    """Intra-op threads: ``PRESSLENS_THREADS``, else the CPUs this process may use."""
    from model.settings import core_settings

    return core_settings().threads or usable_cpus()


def usable_cpus() -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cpus, quota) if quota else cpus)


def pin_threads(threads: int) -> bool:
    """Whether OpenVINO may pin its threads to cores: only when they use every CPU here.

    A process pins without knowing of the others: two pinned single-threaded workers side
    by side (Ray's pool on 2 cores) labelled 37 articles/s with about one core idle, 53
    unpinned (``bench/score.py``)."""
    return threads >= usable_cpus()


def cpu_has_bf16() -> bool:
    """Whether the CPU multiplies bf16 in hardware (AMX or AVX512-BF16), per /proc/cpuinfo.

    OpenVINO runs the fp32 export in bf16 there and is the fastest backend (about 800
    sentences/s against ONNX Runtime's 590 for int8 on an AMX Xeon); without it, OpenVINO
    computes in fp32 and ONNX Runtime is as fast or faster (132 against 117 sentences/s on
    the 2-core AMD EPYC of CI), with less memory.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("amx_bf16", "avx512_bf16"))


def _cgroup_cpu_quota() -> int | None:
    """CPUs allowed by a cgroup quota (v2 ``cpu.max``, else v1 ``cfs_quota``), rounded up."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text().strip()
            period = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or int(period) <= 0:
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def length_runs(lengths: Sequence[int], overhead: float = RUN_OVERHEAD_TOKENS) -> list[range]:
    """Split ascending token lengths into runs that minimise padded tokens plus a per-run cost.

    A batch costs about (rows × longest row) token positions; sorting and cutting it where
    lengths jump trades a little per-call overhead for much less padding. Dynamic programming
    over the cut points: exact and trivial for a batch of 64.
    """
    n = len(lengths)
    best = [0.0] + [math.inf] * n  # best[j]: cost of the first j rows
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            cost = best[i] + (j - i) * lengths[j - 1] + overhead
            if cost < best[j]:
                best[j], cut[j] = cost, i
    runs, j = [], n
    while j > 0:
        runs.append(range(cut[j], j))
        j = cut[j]
    return runs[::-1]


def read_manifest(export_dir: Path) -> dict[str, Any]:
    path = export_dir / EXPORT_MANIFEST
    if not path.is_file():
        raise ExportError(f"{export_dir} holds no exported encoder ({EXPORT_MANIFEST} is missing)")
    return json.loads(path.read_text(encoding="utf-8"))


class _ExportedEncoder(Encoder):
    """Tokenization and batching shared by the runtimes; subclasses run the graph."""

    backend: str
    run_overhead: float = RUN_OVERHEAD_TOKENS

    def __init__(self, export_dir: Path | str, batch_size: int = 64) -> None:
        from tokenizers import Tokenizer

        self.path = Path(export_dir)
        manifest = read_manifest(self.path)
        source = manifest["source"]
        self.name = str(source["name"])
        self.checksum = str(source["checksum"])
        self._dimension = int(source["dimension"])
        self.batch_size = batch_size
        self.pooling = PoolingConfig.from_model_dir(self.path)
        self.model_file = self.path / BACKEND_FILES[self.backend]
        if not self.model_file.is_file():
            raise ExportError(
                f"backend {self.backend!r} needs {self.model_file}, which is not in the export; "
                "run `presslens export --model DIR` to write it"
            )
        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        padding = tokenizer.padding or {}
        self._pad_id = int(padding.get("pad_id", tokenizer.token_to_id("[PAD]") or 0))
        tokenizer.no_padding()  # each run is padded to its own longest row, below
        tokenizer.no_truncation()
        tokenizer.enable_truncation(max_length=self.pooling.max_seq_length)
        self._tokenizer = tokenizer
        self.threads = cpu_threads()

    @property
    def dimension(self) -> int:
        return self._dimension

    def _forward(self, texts: Sequence[str]) -> list[TokenStates]:
        """Tokenize the batch once, then run it in runs of similar length (less padding)."""
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        lengths = [len(e.ids) for e in encodings]
        order = sorted(range(len(encodings)), key=lengths.__getitem__)
        results: list[TokenStates | None] = [None] * len(encodings)
        for run in length_runs([lengths[i] for i in order], self.run_overhead):
            chosen = [order[k] for k in run]
            width = max(lengths[i] for i in chosen)
            ids = np.full((len(chosen), width), self._pad_id, dtype=np.int64)
            types = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.int64)
            for row, i in enumerate(chosen):
                n = lengths[i]
                ids[row, :n], types[row, :n], mask[row, :n] = (
                    encodings[i].ids, encodings[i].type_ids, 1
                )
            hidden, middle = self._run(ids, mask, types)
            for row, i in enumerate(chosen):
                n = lengths[i]
                results[i] = TokenStates(
                    np.ascontiguousarray(hidden[row, :n], dtype=np.float32),
                    np.asarray(encodings[i].offsets[:n], dtype=np.int64).reshape(n, 2),
                    np.ascontiguousarray(middle[row, :n], dtype=np.float32),
                )
        return results  # type: ignore[return-value]

    def _run(
        self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The graph's ``OUTPUTS`` for one padded run."""
        raise NotImplementedError

    def _check_outputs(self, names: Sequence[str]) -> None:
        missing = [name for name in OUTPUTS if name not in names]
        if missing:
            raise ExportError(
                f"{self.model_file} lacks the output(s) {missing} this version reads; "
                "re-run `presslens export --model DIR`"
            )


class OnnxEncoder(_ExportedEncoder):
    """The exported fp32 transformer on ONNX Runtime.

    The export is already fused for ONNX Runtime (attention, layer norms, GELU), so the
    session runs the "extended" optimizations only: "all" adds layout passes for
    convolutions, same speed here, and 0.1 s more to every start."""

    backend = "onnx"

    def __init__(self, export_dir: Path | str, batch_size: int = 64) -> None:
        import onnxruntime as ort

        super().__init__(export_dir, batch_size)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(self.model_file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._check_outputs([o.name for o in self._session.get_outputs()])

    def _run(
        self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden, middle = self._session.run(list(OUTPUTS), {k: feeds[k] for k in self._inputs})
        return hidden, middle


class OnnxInt8Encoder(OnnxEncoder):
    """The dynamically quantized (int8 weights and activations) export on ONNX Runtime."""

    backend = "onnx-int8"


class OpenVinoEncoder(_ExportedEncoder):
    """The fp32 ONNX export compiled by OpenVINO for this CPU (bf16 where AMX has it).

    One infer request: call it from one thread at a time (the service's batcher does)."""

    backend = "openvino"

    def __init__(self, export_dir: Path | str, batch_size: int = 64) -> None:
        import openvino as ov

        super().__init__(export_dir, batch_size)
        core = ov.Core()
        compiled = core.compile_model(
            str(self.model_file),
            "CPU",
            {"INFERENCE_NUM_THREADS": self.threads, "PERFORMANCE_HINT": "LATENCY",
             "ENABLE_CPU_PINNING": pin_threads(self.threads)},
        )
        self._inputs = [i.get_any_name() for i in compiled.inputs]
        self._check_outputs([o.get_any_name() for o in compiled.outputs])
        self._outputs = [compiled.output(name) for name in OUTPUTS]
        self._request = compiled.create_infer_request()

    def _run(
        self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        result = self._request.infer({k: feeds[k] for k in self._inputs})
        hidden, middle = (np.asarray(result[o], dtype=np.float32) for o in self._outputs)
        return hidden, middle


ENCODERS: dict[str, type[_ExportedEncoder]] = {
    "onnx": OnnxEncoder,
    "onnx-int8": OnnxInt8Encoder,
    "openvino": OpenVinoEncoder,
}


def load_exported(export_dir: Path | str, backend: str, batch_size: int = 64) -> Encoder:
    """The torch-free encoder for ``backend`` from an export directory."""
    if backend not in ENCODERS:
        raise ExportError(f"unknown torch-free backend {backend!r}; choose one of {list(ENCODERS)}")
    return ENCODERS[backend](export_dir, batch_size)
