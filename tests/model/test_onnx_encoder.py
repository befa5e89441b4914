"""The torch-free encoders against sentence-transformers: parity, tokenization, no torch.

One export (fp32 and int8) is made per session and shared by these tests; the reference is
``TorchEncoder`` (sentence-transformers on torch), which training uses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.encoder import PoolingConfig, TorchEncoder
from model.onnx_encoder import (
    ExportError,
    OnnxEncoder,
    cpu_threads,
    length_runs,
    load_exported,
)
from model.settings import core_settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def torch_encoder() -> TorchEncoder:
    return TorchEncoder()


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory: pytest.TempPathFactory, torch_encoder: TorchEncoder) -> Path:
    from training.export import export_encoder

    out = tmp_path_factory.mktemp("export") / "onnx"
    export_encoder(out, torch_encoder, backends=("onnx", "onnx-int8"))
    return out


@pytest.fixture(scope="session")
def sample(seed_texts: dict[str, str]) -> list[str]:
    """The export's fixed parity sample plus every seed sentence."""
    from model.segment import split
    from training.export import PARITY_SAMPLE

    seeds = [s.text for text in seed_texts.values() for s in split(text)]
    return [*PARITY_SAMPLE, *seeds]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="session")
def reference(torch_encoder: TorchEncoder, sample: list[str]) -> np.ndarray:
    return torch_encoder.encode(sample)


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_fp32_export_matches_sentence_transformers(backend, export_dir, reference,
                                                   sample) -> None:
    if backend == "openvino":
        pytest.importorskip("openvino")
    similarity = cosines(reference, load_exported(export_dir, backend).encode(sample))
    assert similarity.min() >= 0.999, sample[int(similarity.argmin())]


EDGE_CASES = ("Yes.", "?", "", "   ", "U.S.", "—", "😀 emoji", "a" * 3000)


def test_fp32_export_matches_on_degenerate_texts(export_dir, torch_encoder) -> None:
    similarity = cosines(torch_encoder.encode(EDGE_CASES),
                         load_exported(export_dir, "onnx").encode(EDGE_CASES))
    assert similarity.min() >= 0.999, EDGE_CASES[int(similarity.argmin())]


def test_int8_export_stays_close(export_dir, reference, sample) -> None:
    similarity = cosines(reference, load_exported(export_dir, "onnx-int8").encode(sample))
    assert similarity.min() >= 0.98, sample[int(similarity.argmin())]
    assert similarity.mean() >= 0.99


def test_token_states_and_offsets_match_torch(export_dir, torch_encoder, sample) -> None:
    """Stance pools target tokens and framing the middle layer: same tokens, same offsets,
    same states in both layers."""
    encoder = load_exported(export_dir, "onnx")
    pairs = zip(torch_encoder.token_states(sample), encoder.token_states(sample), strict=True)
    for text, (ours, theirs) in zip(sample, pairs, strict=True):
        assert theirs.hidden.shape == ours.hidden.shape == theirs.middle.shape, text
        np.testing.assert_array_equal(theirs.offsets, ours.offsets)
        assert cosines(ours.hidden, theirs.hidden).min() >= 0.999, text
        assert cosines(ours.middle, theirs.middle).min() >= 0.999, text
        assert cosines(ours.middle, ours.hidden).mean() < 0.99, "middle is another layer"


def test_truncates_at_the_pooling_configs_max_seq_length(export_dir, sample) -> None:
    encoder = load_exported(export_dir, "onnx")
    assert encoder.pooling == PoolingConfig("mean", True, 256)
    longest = max(sample, key=len)
    [states] = encoder.token_states([longest])
    assert len(states.hidden) == 256  # not the 128 that tokenizer.json itself carries


@pytest.mark.parametrize(("model_max_length", "expected"), [(48, 48), (10**30, 256)])
def test_reads_max_seq_length_where_sentence_transformers_6_keeps_it(
    export_dir: Path, tmp_path: Path, model_max_length: int, expected: int
) -> None:
    """sentence-transformers 6 saves the truncation length as the tokenizer's
    model_max_length, not in sentence_bert_config.json: read there, all-mpnet-base-v2's 384
    became 256 and its export failed the parity check (384 token states against 256)."""
    assert (export_dir / "tokenizer_config.json").is_file()  # the export carries it
    changed = tmp_path / "onnx"
    shutil.copytree(export_dir, changed)
    (changed / "sentence_bert_config.json").write_text(json.dumps({}))
    config = json.loads((changed / "tokenizer_config.json").read_text())
    config["model_max_length"] = model_max_length  # 1e30: a tokenizer with no limit of its own
    (changed / "tokenizer_config.json").write_text(json.dumps(config))
    encoder = load_exported(changed, "onnx")
    assert encoder.pooling.max_seq_length == expected
    [states] = encoder.token_states(["word " * 300])
    assert len(states.hidden) == expected


def test_reads_max_seq_length_and_pooling_mode_from_the_export(export_dir, tmp_path) -> None:
    changed = tmp_path / "onnx"
    shutil.copytree(export_dir, changed)
    (changed / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 16}))
    pooling = changed / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text()) | {"pooling_mode_cls_token": True,
                                                  "pooling_mode_mean_tokens": False}
    pooling.write_text(json.dumps(config))
    encoder = load_exported(changed, "onnx")
    assert encoder.pooling == PoolingConfig("cls", True, 16)
    [states] = encoder.token_states(["word " * 100])
    assert len(states.hidden) == 16
    vector = encoder.encode(["word " * 100])[0]
    np.testing.assert_allclose(vector, states.hidden[0] / np.linalg.norm(states.hidden[0]),
                               rtol=1e-5, atol=1e-6)


def test_a_batch_encodes_as_its_sentences_do_alone(export_dir, sample) -> None:
    """Length bucketing and padding change nothing: batched equals one by one."""
    encoder = load_exported(export_dir, "onnx")
    together = encoder.encode(sample)
    alone = np.stack([encoder.encode([text])[0] for text in sample[:12]])
    assert cosines(together[:12], alone).min() >= 0.99999


@pytest.mark.parametrize(
    ("lengths", "overhead"),
    [([5] * 10, 64), ([3, 4, 40, 41], 8), ([1, 2, 3, 200], 0), ([7], 64), ([], 64)],
)
def test_length_runs_cover_every_row_once_in_order(lengths, overhead) -> None:
    runs = length_runs(lengths, overhead)
    assert [i for run in runs for i in run] == list(range(len(lengths)))
    if lengths and len(set(lengths)) == 1:
        assert len(runs) == 1
    if lengths == [3, 4, 40, 41]:
        assert [list(r) for r in runs] == [[0, 1], [2, 3]]


def test_threads_follow_the_environment_then_the_cpus(monkeypatch) -> None:
    import os

    monkeypatch.setenv("PRESSLENS_THREADS", "3")
    assert cpu_threads() == 3
    monkeypatch.delenv("PRESSLENS_THREADS")
    core_settings.cache_clear()  # settings are read once per process
    assert 1 <= cpu_threads() <= len(os.sched_getaffinity(0))


def test_openvino_pins_threads_only_when_they_take_every_cpu(monkeypatch) -> None:
    """Two pinned single-threaded Ray workers shared one core; a process that uses every
    CPU may still pin."""
    from model import onnx_encoder

    monkeypatch.setattr(onnx_encoder, "usable_cpus", lambda: 2)
    assert onnx_encoder.pin_threads(2) is True
    assert onnx_encoder.pin_threads(1) is False


def test_missing_backend_file_is_a_clear_error(export_dir, tmp_path) -> None:
    partial = tmp_path / "onnx"
    shutil.copytree(export_dir, partial)
    (partial / "model_int8.onnx").unlink()
    with pytest.raises(ExportError, match="presslens export"):
        load_exported(partial, "onnx-int8")
    assert isinstance(load_exported(partial, "onnx"), OnnxEncoder)


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_an_export_without_the_middle_layer_is_a_clear_error(
    backend, export_dir, tmp_path
) -> None:
    """An export made before framing read the middle layer is refused, not misread."""
    import onnx

    old = tmp_path / "onnx"
    shutil.copytree(export_dir, old)
    graph = onnx.load(str(old / "model.onnx"))
    kept = [o for o in graph.graph.output if o.name != "middle_hidden_state"]
    del graph.graph.output[:]
    graph.graph.output.extend(kept)
    onnx.save(graph, str(old / "model.onnx"))
    with pytest.raises(ExportError, match=r"middle_hidden_state.*presslens export"):
        load_exported(old, backend)


def test_serving_encoders_never_import_torch(export_dir) -> None:
    code = (
        "import sys\n"
        "from model.onnx_encoder import load_exported\n"
        f"for backend in ('onnx', 'onnx-int8', 'openvino'):\n"
        f"    vectors = load_exported({str(export_dir)!r}, backend).encode(['A sentence.'])\n"
        "    assert vectors.shape == (1, 384)\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers')\n"
        "         if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
