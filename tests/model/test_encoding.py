"""One encoder call per request: both heads and compare's alignment read one encoding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from model.compare import compare
from model.encoder import TokenStates
from model.features import Unit, head_features
from model.labels import FRAMING, STANCE
from model.predict import Presslens

ARTICLE = ("Iran and Russia signed a treaty on Friday.\n"
           "The Kremlin said the deal was historic.\n"
           "Critics urged Europe to respond.")


class Counting:
    """Records every ``token_states`` call on the model's encoder, then passes it through."""

    def __init__(self, model: Presslens, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[str]] = []
        original = model.encoder.token_states

        def counted(texts: Sequence[str]) -> Iterator[TokenStates]:
            self.calls.append(list(texts))
            return original(texts)

        monkeypatch.setattr(model.encoder, "token_states", counted)


@pytest.fixture
def counting(shipped_model: Presslens, monkeypatch: pytest.MonkeyPatch) -> Counting:
    return Counting(shipped_model, monkeypatch)


def test_an_article_with_targets_is_one_call_over_its_distinct_texts(
    shipped_model: Presslens, counting: Counting
) -> None:
    shipped_model.classify(ARTICLE, ["Iran", "Europe"])
    assert len(counting.calls) == 1
    [texts] = counting.calls
    assert len(texts) == len(set(texts))
    # three plain sentences (framing; stance where no target is named) and two marked ones
    assert sorted(texts) == sorted([
        *ARTICLE.split("\n"),
        "[ Iran ] and Russia signed a treaty on Friday.",
        "Critics urged [ Europe ] to respond.",
    ])


def test_a_sentence_without_target_is_encoded_once_for_both_heads(
    shipped_model: Presslens, counting: Counting
) -> None:
    shipped_model.classify(ARTICLE)
    assert counting.calls == [ARTICLE.split("\n")]


def test_one_encoding_gives_the_features_each_head_would_compute_alone(
    shipped_model: Presslens,
) -> None:
    from model.features import all_features

    units = [Unit("Iran and Russia signed a treaty on Friday.", "Iran"),
             Unit("Critics urged Europe to respond.")]
    features, vectors = all_features(shipped_model.encoder, units, [FRAMING, STANCE])
    for head in (FRAMING, STANCE):
        np.testing.assert_allclose(features[head],
                                   head_features(shipped_model.encoder, units, head), atol=1e-6)
    middle = [s.middle.mean(axis=0) for s in shipped_model.encoder.token_states(
        [u.text for u in units])]
    np.testing.assert_allclose(vectors, [m / np.linalg.norm(m) for m in middle], atol=1e-6)


def test_compare_aligns_on_the_classify_call_without_encoding_again(
    shipped_model: Presslens, counting: Counting
) -> None:
    edited = ARTICLE.replace("historic", "a mistake")
    result = compare(shipped_model, ARTICLE, edited, ["Iran"])
    assert len(counting.calls) == 1
    assert len(result.pairs) == 3
