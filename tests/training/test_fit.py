"""Training writes a complete, verifiable artifact, and a failed run never damages the old one."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from model.artifact import (
    ModelLoadError,
    load_estimators,
    load_heads,
    read_card,
    write_model,
)
from model.encoder import file_sha256
from training.dataset import DataError


def snapshot(directory: Path) -> dict[str, str]:
    return {p.name: file_sha256(p) for p in sorted(directory.iterdir()) if p.is_file()}


def test_artifact_lists_every_file_with_its_checksum(
    small_model_dir: Path, small_csv: Path
) -> None:
    card = read_card(small_model_dir)
    assert set(card.files) == {"framing.skops", "stance.skops", "framing.npz", "stance.npz",
                               "framing.lexical.npz"}
    for name, digest in card.files.items():
        assert file_sha256(small_model_dir / name) == digest
    assert card.training_files[0].sha256 == file_sha256(small_csv)
    assert card.training_files[0].rows > 0
    assert card.encoder.checksum and card.libraries["scikit-learn"]
    assert (small_model_dir / "card.md").read_text().startswith("# Model card")
    assert 0.0 <= card.metrics["framing"]["cv_by_story"]["ece"] <= 1.0


@pytest.mark.parametrize(
    "bad_rows",
    [
        "text,framing\n,advocacy\n",  # empty text
        "sentence,framing\nHello.,advocacy\n",  # missing column
        "text,framing\nHello.,opinion\n",  # unknown label
        "\ufefftext,framing\nHello.,advocacy\n",  # byte-order mark
    ],
)
def test_failed_retrain_leaves_previous_model_intact(
    small_model_dir: Path, train_small: Callable[..., Path], write_csv: Callable[..., Path],
    tmp_path: Path, bad_rows: str,
) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(small_model_dir, model_dir)
    before = snapshot(model_dir)
    with pytest.raises(DataError):
        train_small(model_dir, [write_csv(raw=bad_rows.encode())])
    assert snapshot(model_dir) == before


def test_crash_while_writing_keeps_old_model_and_leaves_no_debris(
    small_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(small_model_dir, model_dir)
    before = snapshot(model_dir)
    card = read_card(model_dir)
    heads = load_estimators(model_dir, card)

    def explode(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("skops.io.dump", explode)
    with pytest.raises(KeyboardInterrupt):
        write_model(model_dir, heads, card)
    assert snapshot(model_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_loading_refuses_a_tampered_head(small_model_dir: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(small_model_dir, model_dir)
    with (model_dir / "stance.skops").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelLoadError, match=r"stance\.skops does not match the sha256"):
        load_heads(model_dir, read_card(model_dir))


def test_loading_refuses_another_scikit_learn_release(
    small_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(small_model_dir, model_dir)
    card = json.loads((model_dir / "card.json").read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    (model_dir / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match=r"scikit-learn .* the model needs 0\.24\.2"):
        load_estimators(model_dir, read_card(model_dir))
    # The serving arrays do not depend on scikit-learn: they still load.
    assert set(load_heads(model_dir, read_card(model_dir))) == {"framing", "stance"}


def test_loading_refuses_an_encoder_mismatch(small_model_dir: Path, tmp_path: Path) -> None:
    from model.predict import Presslens

    model_dir = tmp_path / "model"
    shutil.copytree(small_model_dir, model_dir)
    card = json.loads((model_dir / "card.json").read_text())
    card["encoder"]["checksum"] = "0" * 64
    (model_dir / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="encoder mismatch"):
        Presslens.load(model_dir, backend="torch")


def test_missing_card_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"card\.json is missing"):
        read_card(tmp_path)


def test_heads_chosen_and_calibrated_on_a_dev_set_serve_as_arrays(
    small_csv: Path, tmp_path: Path
) -> None:
    """With selection "dev", C and the temperature come from held-out rows; the fitted
    head still reduces to the arrays serving reads, with the same probabilities."""
    import numpy as np

    from model.encoder import TorchEncoder
    from model.linear_head import LinearHead
    from training.cache import FeatureCache
    from training.dataset import load
    from training.fit import HeadConfig, fit_heads, head_matrix

    data = load([small_csv])
    train = type(data)(data.rows[::2] + data.rows[1::4], data.files)
    dev = type(data)(data.rows[3::4], data.files)
    encoder = TorchEncoder()
    config = HeadConfig(selection="dev", lexical_heads=(), c_grid=(0.001, 0.01), cv_folds=2)
    heads, combined, metrics = fit_heads(train, encoder, config, tmp_path, dev=dev)
    assert combined == {}
    for head, estimator in heads.items():
        assert metrics[head]["selected_on"] == "dev"
        assert set(metrics[head]["macro_f1_by_C_on_dev"]) == {"0.001", "0.01"}
        assert metrics[head]["dev"]["n"] == len(dev.for_head(head))
        X = head_matrix(FeatureCache(encoder, tmp_path), dev.for_head(head), head)
        np.testing.assert_allclose(LinearHead.from_estimator(estimator).predict_proba(X),
                                   estimator.predict_proba(X), atol=1e-6)
