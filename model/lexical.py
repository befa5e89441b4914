"""A word n-gram model beside the embedding head, for framing.

Framing turns on a few words the guide names (said, urged, must) and on many it does not
list. The cues of ``model.cues`` cover the first; a TF-IDF logistic regression on word
1-2-grams covers the rest. Alone it learns the corpus's wording (it scores higher than the
embedding head in story-grouped cross-validation but lower on the real-news dev proxies);
averaged with the embedding head's probabilities at a fixed weight it helps: in the shipped
model, cross-validated framing macro-F1 0.820 -> 0.835, subjectivity AUC 0.778 -> 0.786,
PolNeAR attribution AUC unchanged (0.819 -> 0.818). The weight, 0.2, was chosen on
cross-validation and those dev proxies (0.3 scored higher in cross-validation but lower on
PolNeAR).

Like ``model.linear_head``, the fitted vectorizer and classifier are kept as arrays
(vocabulary, idf, coefficients), so serving needs neither scikit-learn nor pickle; the
analyzer below reproduces ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)``.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.heads import FeatureHead, TextHead
from model.linear_head import softmax

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
LEXICAL_WEIGHT = 0.2
"""Share of the n-gram model in a combined head's probabilities."""


def ngrams(text: str) -> list[str]:
    """Lower-cased word unigrams and bigrams, as scikit-learn's word analyzer makes them."""
    tokens = TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


@dataclass(frozen=True, eq=False)
class LexicalHead:
    """TF-IDF (sublinear tf, smooth idf, l2) into multinomial logistic regression."""

    classes_: np.ndarray
    vocabulary: np.ndarray
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.vocabulary)})

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> LexicalHead:
        """The arrays of a fitted ``make_pipeline(TfidfVectorizer, LogisticRegression)``."""
        vectorizer, logistic = (step for _, step in pipeline.steps)
        vocabulary = vectorizer.get_feature_names_out().astype(str)
        return cls(np.asarray(logistic.classes_).astype(str), vocabulary, vectorizer.idf_,
                   logistic.coef_, logistic.intercept_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Each row's logits from the coefficient columns of its own n-grams only: a dense
        TF-IDF matrix of a 512-sentence batch over this vocabulary would be ~40 MB."""
        logits = np.tile(self.intercept, (len(texts), 1)).astype(np.float64)
        for row, text in enumerate(texts):
            counts = Counter(i for g in ngrams(text) if (i := self._index.get(g)) is not None)
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            weights = (1.0 + np.log(tf)) * self.idf[columns]  # sublinear tf times idf
            logits[row] += (weights / np.linalg.norm(weights)) @ self.coef[:, columns].T
        return softmax(logits)

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez(handle, classes=self.classes_, vocabulary=self.vocabulary, idf=self.idf,
                     coef=self.coef, intercept=self.intercept)

    @classmethod
    def load(cls, path: Path) -> LexicalHead:
        with np.load(path, allow_pickle=False) as arrays:
            return cls(arrays["classes"], arrays["vocabulary"], arrays["idf"], arrays["coef"],
                       arrays["intercept"])


@dataclass(frozen=True, eq=False)
class CombinedHead:
    """An embedding head and a lexical head, their probabilities averaged at ``weight``
    and recalibrated with one temperature."""

    embedding: FeatureHead
    lexical: TextHead  # LexicalHead, or the scikit-learn pipeline it was taken from
    weight: float = LEXICAL_WEIGHT
    beta: float = 1.0  # inverse temperature of the mix, fitted on cross-validated mixes

    @property
    def classes_(self) -> np.ndarray:
        return self.embedding.classes_

    def predict_proba(self, features: np.ndarray, texts: Sequence[str] = ()) -> np.ndarray:
        if list(self.lexical.classes_) != list(self.embedding.classes_):
            raise ValueError("the lexical and embedding heads order their classes differently")
        mixed = mix(self.embedding.predict_proba(features),
                    self.lexical.predict_proba(list(texts)), self.weight)
        return sharpen(mixed, self.beta)


def mix(embedding: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """The two heads' probabilities averaged, ``weight`` the lexical head's share: one
    formula for serving and for the cross-validated mixes training fits ``beta`` on."""
    return (1 - weight) * embedding + weight * lexical


def sharpen(proba: np.ndarray, beta: float) -> np.ndarray:
    """``softmax(beta * log p)``: averaging two heads blunts confidence; this restores it."""
    return softmax(beta * np.log(np.clip(proba, 1e-12, None)))
