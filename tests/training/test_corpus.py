"""The project's corpus meets the model issue's floor, and its split keeps stories apart."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from training.corpus_stats import label_stats, near_duplicate_share
from training.dataset import load

DATA = Path(__file__).resolve().parents[2] / "training" / "data"
FILES = [DATA / "train.csv", DATA / "test.csv"]


@pytest.fixture(scope="module")
def stats() -> dict:
    return label_stats(load(FILES))


def stories(path: Path) -> set[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["story"] for row in csv.DictReader(handle)}


def test_no_story_is_on_both_sides_of_the_split() -> None:
    train, test = stories(FILES[0]), stories(FILES[1])
    assert train and test and not train & test


def test_size_and_spread(stats: dict) -> None:
    assert stats["distinct_sentences"] >= 3000
    assert stats["stories"] >= 40


def test_label_balance(stats: dict) -> None:
    assert min(stats["framing_share"].values()) >= 0.25
    assert stats["stance_share"]["supportive"] >= 0.25
    assert stats["stance_share"]["critical"] >= 0.25


def test_targets_and_two_target_sentences(stats: dict) -> None:
    assert stats["rows_with_target"] >= 1000
    assert stats["two_target_sentences_with_different_stances"] >= 25


def test_near_duplicate_pairs_stay_under_one_percent() -> None:
    from model.encoder import TorchEncoder
    from model.features import Unit
    from training.cache import FeatureCache

    texts = sorted({row.text for row in load(FILES).rows})
    encoder = TorchEncoder()
    features = FeatureCache(encoder).features([Unit(t) for t in texts], "framing")
    vectors = features[:, : encoder.dimension]  # the sentence embedding, without the cues
    assert near_duplicate_share(vectors) < 0.01


def test_near_duplicate_share_counts_pairs() -> None:
    import numpy as np

    same = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert near_duplicate_share(same) == pytest.approx(1 / 3)
