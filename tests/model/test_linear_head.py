"""The serving arrays give the probabilities of the scikit-learn head they were taken from."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from model.artifact import load_estimators, load_heads, read_card
from model.linear_head import LinearHead, UnsupportedHeadError


@pytest.mark.parametrize("head", ["framing", "stance"])
def test_arrays_match_the_estimator(shipped_model_dir: Path, head: str) -> None:
    card = read_card(shipped_model_dir)
    estimator = load_estimators(shipped_model_dir, card)[head]
    served = load_heads(shipped_model_dir, card)[head]
    arrays = getattr(served, "embedding", served)  # framing: combined with its n-gram model
    assert isinstance(arrays, LinearHead)
    X = np.random.default_rng(0).normal(size=(50, arrays.mean_.shape[0]))
    X = X * arrays.scale_ + arrays.mean_  # the features' own spread, not a degenerate point
    np.testing.assert_allclose(arrays.predict_proba(X), estimator.predict_proba(X), atol=1e-9)
    assert list(arrays.classes_) == list(estimator.classes_)


def test_round_trip_through_npz(shipped_model_dir: Path, tmp_path: Path) -> None:
    head = load_heads(shipped_model_dir, read_card(shipped_model_dir))["stance"]
    head.save(tmp_path / "h.npz")
    again = LinearHead.load(tmp_path / "h.npz")
    X = np.tile(head.mean_, (3, 1))
    np.testing.assert_array_equal(again.predict_proba(X), head.predict_proba(X))


def test_other_estimators_are_refused() -> None:
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression().fit([[0.0], [1.0], [2.0]], ["a", "b", "c"])
    with pytest.raises(UnsupportedHeadError, match="LogisticRegression"):
        LinearHead.from_estimator(fitted)


def test_serving_heads_load_without_scikit_learn(shipped_model_dir: Path) -> None:
    """In a fresh interpreter: loading the shipped heads imports neither sklearn nor skops."""
    import subprocess

    code = ("import sys; from pathlib import Path; from model.artifact import load_heads, "
            f"read_card; d = Path({str(shipped_model_dir)!r}); load_heads(d, read_card(d)); "
            "print(sorted(m for m in ('sklearn', 'skops', 'scipy', 'torch') if m in sys.modules))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
