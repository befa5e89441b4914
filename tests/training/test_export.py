"""``presslens export``: the model dir gains a checked, checksummed torch-free encoder, the
default serving backend uses it, predictions agree with torch, and serving imports no torch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model.artifact import ModelLoadError, read_card
from model.labels import LABELS
from model.predict import DEFAULT_MODEL_DIR, Presslens, default_backend
from model.settings import core_settings
from training.dataset import load
from training.evaluate import head_predictions
from training.metrics import head_metrics

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "training" / "data" / "test.csv"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def exported_model(tmp_path_factory: pytest.TempPathFactory, small_model_dir: Path) -> Path:
    """The small trained model, copied and exported once (the serving default only)."""
    from presslens.cli import app

    model_dir = tmp_path_factory.mktemp("exported") / "model"
    shutil.copytree(small_model_dir, model_dir)
    result = CliRunner().invoke(app, ["export", "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    return model_dir


@pytest.fixture(autouse=True)
def _no_backend_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRESSLENS_BACKEND", raising=False)


def test_export_is_recorded_in_the_card_with_checksums(exported_model: Path) -> None:
    from training.export import SERVING_BACKEND

    card = read_card(exported_model)
    exports = card.exports
    assert exports["source_checksum"] == card.encoder.checksum
    assert exports["default"] == SERVING_BACKEND
    # only what serving needs: the fp32 file, which OpenVINO and ONNX Runtime both run
    assert set(exports["backends"]) == {"openvino", "onnx"}
    assert "onnx/model_int8.onnx" not in card.files
    model_file = f"onnx/{exports['backends'][SERVING_BACKEND]['file']}"
    for name in (model_file, "onnx/tokenizer.json", "onnx/export.json", "onnx/modules.json",
                 "onnx/sentence_bert_config.json", "onnx/1_Pooling/config.json"):
        assert name in card.files, name
        assert exports["files"].get(name, card.files[name]) == card.files[name]
    assert {"framing.skops", "stance.skops"} <= set(card.files)  # heads kept
    assert exports["backends"][SERVING_BACKEND]["parity"]["min_cosine"] >= 0.999
    assert "Exported encoders" in (exported_model / "card.md").read_text(encoding="utf-8")


def test_default_backend_is_the_export_when_present(exported_model, small_model_dir,
                                                    monkeypatch) -> None:
    from training.export import SERVING_BACKEND

    monkeypatch.setattr("model.onnx_encoder.cpu_has_bf16", lambda: True)
    assert default_backend(exported_model) == SERVING_BACKEND
    assert default_backend(small_model_dir) == "torch"  # no exports: the reference backend
    model = Presslens.load(exported_model)
    assert model.encoder.backend == SERVING_BACKEND  # type: ignore[attr-defined]
    monkeypatch.setattr("model.onnx_encoder.cpu_has_bf16", lambda: False)
    assert default_backend(exported_model) == "onnx"  # no bf16: same file on ONNX Runtime
    monkeypatch.setattr("model.onnx_encoder.cpu_has_bf16", lambda: True)
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *args: None)
    assert default_backend(exported_model) == "onnx"  # no OpenVINO: same file on ONNX Runtime
    monkeypatch.setenv("PRESSLENS_BACKEND", "torch")
    core_settings.cache_clear()  # settings are read once per process
    assert default_backend(exported_model) == "torch"


def test_exports_from_another_encoder_are_refused(exported_model: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(exported_model, model_dir)
    card_path = model_dir / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["exports"]["source_checksum"] = "0" * 64
    card_path.write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="encoder mismatch"):
        Presslens.load(model_dir, "onnx")


def test_a_changed_onnx_file_is_refused(exported_model: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(exported_model, model_dir)
    with (model_dir / "onnx" / "tokenizer.json").open("a", encoding="utf-8") as handle:
        handle.write(" ")
    with pytest.raises(ModelLoadError, match="sha256"):
        Presslens.load(model_dir)


def test_a_backend_that_was_not_exported_is_a_clear_error(exported_model: Path) -> None:
    with pytest.raises(ModelLoadError, match="presslens export"):
        Presslens.load(exported_model, "onnx-int8")


def _memoized(model: Presslens) -> Presslens:
    """Encode each held-out text once for both heads (the heads ask for the same texts)."""
    cache: dict = {}
    original = model.encoder.token_states

    def token_states(texts):
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        cache.update(zip(missing, original(missing), strict=True))
        return iter([cache[t] for t in texts])

    model.encoder.token_states = token_states  # type: ignore[method-assign]
    return model


def _agreement(reference: Presslens, other: Presslens, path: Path) -> dict[str, tuple]:
    reference, other = _memoized(reference), _memoized(other)
    dataset = load([path], for_training=False)
    out = {}
    for head in dataset.heads():
        rows = dataset.for_head(head)
        gold = [r.labels[head] for r in rows]
        a, b = head_predictions(reference, rows, head), head_predictions(other, rows, head)
        agree = float(np.mean(a.argmax(axis=1) == b.argmax(axis=1)))
        f1 = [head_metrics(gold, p, list(LABELS[head]))["macro_f1"] for p in (a, b)]
        out[head] = (agree, f1[0], f1[1])
    return out


def _shipped_with_exports() -> list[Path]:
    try:
        exported = bool(read_card(DEFAULT_MODEL_DIR).exports)
    except ModelLoadError:
        return []
    return [DEFAULT_MODEL_DIR] if exported else []


@pytest.mark.parametrize("which", ["small", *(["shipped"] if _shipped_with_exports() else [])])
def test_default_backend_agrees_with_torch_on_the_heldout_set(which, exported_model) -> None:
    """≥ 98 % of labels the same, and each head's macro-F1 within one point."""
    model_dir = exported_model if which == "small" else DEFAULT_MODEL_DIR
    served = Presslens.load(model_dir)
    assert served.encoder.backend != "torch"  # type: ignore[attr-defined]
    results = _agreement(Presslens.load(model_dir, "torch"), served, HELDOUT)
    for head, (agree, f1_torch, f1_served) in results.items():
        assert agree >= 0.98, (head, agree)
        assert abs(f1_served - f1_torch) <= 0.01, (head, f1_torch, f1_served)


def test_serving_a_request_never_imports_torch(exported_model: Path) -> None:
    code = """
import sys
from fastapi.testclient import TestClient
from service.app import create_app
from service.settings import Settings

with TestClient(create_app(Settings())) as client:
    assert client.get("/readyz").status_code == 200, client.get("/readyz").text
    answer = client.post("/v1/classify", json={"text": "The council approved the budget."})
    assert answer.status_code == 200, answer.text
    assert answer.json()["sentences"][0]["framing"]
loaded = [m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules]
assert not loaded, loaded
"""
    env = os.environ | {
        "PRESSLENS_MODEL_DIR": str(exported_model),
        "PRESSLENS_BACKEND": default_backend(exported_model),
        "HF_HUB_OFFLINE": "1",
    }
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=180)
