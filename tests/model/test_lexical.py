"""The n-gram model's arrays reproduce scikit-learn's TF-IDF pipeline, and combine safely."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from model.lexical import CombinedHead, LexicalHead, ngrams
from training.heads import make_lexical

DATA = Path(__file__).resolve().parents[2] / "training" / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def fitted():
    rows = _rows("train.csv")
    return make_lexical().fit([r["text"] for r in rows], [r["framing"] for r in rows])


def test_arrays_give_the_pipelines_probabilities(fitted, tmp_path: Path) -> None:
    texts = [r["text"] for r in _rows("test.csv")[:200]]
    texts += ["", "!!!", "U.S. officials said “Ça va” twice, twice, twice — 2024."]
    arrays = LexicalHead.from_pipeline(fitted)
    arrays.save(tmp_path / "lexical.npz")
    loaded = LexicalHead.load(tmp_path / "lexical.npz")
    np.testing.assert_allclose(loaded.predict_proba(texts), fitted.predict_proba(texts),
                               atol=1e-12)
    assert list(loaded.classes_) == list(fitted.classes_)


def test_ngrams_are_scikit_learns_word_bigrams(fitted) -> None:
    analyzer = fitted[0].build_analyzer()
    text = "Kellogg URGED the U.S. to act — now, 'before it's too late'."
    assert ngrams(text) == analyzer(text)


def test_combined_probabilities_are_the_weighted_average(fitted) -> None:
    class Uniform:
        classes_ = fitted.classes_

        def predict_proba(self, features: np.ndarray) -> np.ndarray:
            return np.full((len(features), len(self.classes_)), 1 / len(self.classes_))

    texts = ["The minister said the plan must pass.", "Rain fell on Tuesday."]
    combined = CombinedHead(Uniform(), LexicalHead.from_pipeline(fitted), weight=0.25)
    expected = 0.75 / 3 + 0.25 * fitted.predict_proba(texts)
    np.testing.assert_allclose(combined.predict_proba(np.zeros((2, 1)), texts), expected)


def test_combining_heads_with_other_classes_is_refused(fitted) -> None:
    class Other:
        classes_ = np.array(["a", "b", "c"])

        def predict_proba(self, features: np.ndarray) -> np.ndarray:
            return np.ones((len(features), 3)) / 3

    with pytest.raises(ValueError, match="order their classes"):
        CombinedHead(Other(), LexicalHead.from_pipeline(fitted)).predict_proba(
            np.zeros((1, 1)), ["x"])


def test_sharpening_keeps_the_argmax_and_sums_to_one() -> None:
    from model.lexical import sharpen

    proba = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    for beta in (0.5, 1.0, 2.0):
        out = sharpen(proba, beta)
        np.testing.assert_allclose(out.sum(axis=1), 1.0)
        assert (out.argmax(axis=1) == proba.argmax(axis=1)).all()
    np.testing.assert_allclose(sharpen(proba, 1.0), proba)
    assert sharpen(proba, 2.0)[0, 0] > 0.5 > sharpen(proba, 0.5)[0, 0]
