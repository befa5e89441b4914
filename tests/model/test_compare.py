"""Comparing two versions of a story: alignment, per-pair changes, story-level shifts.

The seed tests run the real encoder; labels come either from a real model (properties that
must hold whatever it predicts: identity, mirroring) or from the seeds' hand labels, so that
"the framing changes between the seeds" is checked against what a reader labelled rather
than against whatever a model happens to predict.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model.compare import Comparison, align, build_comparison, compare
from model.labels import FRAMING, LABELS, STANCE
from model.predict import DEFAULT_MODEL_DIR, LabelledDocument, Prediction, Presslens, SentenceResult

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = Path(__file__).resolve().parents[2] / "training" / "data" / "train.csv"
ORIGINAL, REWRITE = "000_38e477e218487515.txt", "001_f81694604ca57c9e.txt"


# --- alignment on vectors: no encoder needed -------------------------------------------


def _vectors(*angles: float) -> np.ndarray:
    """Unit vectors in the plane; the cosine of two is the cosine of their angle gap."""
    return np.array([[np.cos(a), np.sin(a)] for a in angles])


def test_align_maximises_total_similarity_not_greedy_best() -> None:
    # Greedy would give A0 its closest, B0; the assignment maximises the total instead.
    a = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0]])
    b = np.array([[0.9, 0.44, 0.0], [0.75, 0.0, 0.66]])
    cosine = (a @ b.T) / np.linalg.norm(b, axis=1)
    assert cosine[0, 0] > cosine[0, 1]
    assert cosine[0, 1] + cosine[1, 0] > cosine[0, 0] + cosine[1, 1]
    pairs = align(a, b, threshold=0.6, gap_threshold=1.0)
    assert [(p.a, p.b) for p in pairs] == [(0, 1), (1, 0)]


def test_align_drops_pairs_under_the_threshold() -> None:
    a, b = _vectors(0.0, 1.5), _vectors(0.1, -1.5)  # A1 and B1 are far apart (cos < 0)
    pairs = align(a, b, threshold=0.6, gap_threshold=0.3)
    assert [(p.a, p.b, p.by_position) for p in pairs] == [(0, 0, False)]


def test_gap_pass_pairs_leftovers_in_the_same_place_only() -> None:
    e = np.eye(6)
    half = np.sqrt(0.5)
    a = np.array([e[0], e[1], e[2], e[3]])
    b = np.array([half * (e[0] + e[5]), e[1], e[4], e[3], half * (e[2] + e[4])])
    # Anchors A1-B1 and A3-B3. A0 and B0 both stand before the first anchor (cosine 0.71);
    # A2 sits between the anchors and B4 after the last: as similar, but in another place.
    pairs = align(a, b, threshold=0.9, gap_threshold=0.5)
    assert {(p.a, p.b): p.by_position for p in pairs} == {
        (0, 0): True, (1, 1): False, (3, 3): False,
    }
    assert float(a[2] @ b[4]) == pytest.approx(half)


def test_align_handles_an_empty_side() -> None:
    assert align(np.zeros((0, 3)), np.ones((2, 3))) == []
    assert align(np.ones((2, 3)), np.zeros((0, 3))) == []


# --- the comparison from labelled sentences: no encoder needed ---------------------------


def _prediction(label: str, head: str, target: str | None = None, p: float = 0.9) -> Prediction:
    rest = (1 - p) / (len(LABELS[head]) - 1)
    scores = {name: p if name == label else rest for name in LABELS[head]}
    return Prediction(label, p, scores, target)


def _sentence(index: int, text: str, framing: str | None, stance: dict | None = None,
              boilerplate: bool = False) -> SentenceResult:
    return SentenceResult(
        index, 0, len(text), text, boilerplate,
        _prediction(framing, FRAMING) if framing else None,
        [_prediction(label, STANCE, target) for target, label in (stance or {}).items()],
    )


def test_pair_reports_framing_and_per_target_stance_changes() -> None:
    a = [_sentence(0, "a0", "neutral_reporting", {"Iran": "neutral", "Russia": "critical"}),
         _sentence(1, "a1", "official_claim", {None: "neutral"})]
    b = [_sentence(0, "b0", "advocacy", {"Iran": "critical", None: "neutral"}),
         _sentence(1, "b1", "official_claim", {None: "neutral"})]
    result = build_comparison(a, b, np.eye(2), np.eye(2), targets=["Iran", "Russia"])
    first, second = result.pairs
    assert (first.framing_a, first.framing_b, first.framing_changed) == (
        "neutral_reporting", "advocacy", True)
    shifts = {s.target: (s.a, s.b, s.changed) for s in first.stance}
    # Russia is named only in A: a mention change, not a stance change.
    assert shifts == {"Iran": ("neutral", "critical", True), "Russia": ("critical", None, False),
                      None: (None, "neutral", False)}
    assert first.strength == pytest.approx(0.85)  # 0.9 moved from one label to another
    assert not second.changed and second.strength == 0.0
    assert [(p.a, p.b) for p in result.changes] == [(0, 0)]


def test_story_level_shares_and_shift() -> None:
    a = [_sentence(0, "a0", "advocacy"), _sentence(1, "a1", "advocacy"),
         _sentence(2, "menu", None, boilerplate=True)]
    b = [_sentence(0, "b0", "neutral_reporting", {"Iran": "critical"}),
         _sentence(1, "b1", "advocacy", {None: "supportive"})]
    result = build_comparison(a, b, np.eye(2), np.eye(2), targets=["Iran", " "])
    assert result.a.framing_shares == {"neutral_reporting": 0.0, "official_claim": 0.0,
                                       "advocacy": 1.0}
    assert result.framing_shift == {"neutral_reporting": 0.5, "official_claim": 0.0,
                                    "advocacy": -0.5}
    assert result.targets == ["Iran"]
    stance_b = {s.target: (s.sentences, s.shares) for s in result.b.stance}
    assert stance_b["Iran"] == (1, {"supportive": 0.0, "critical": 1.0, "neutral": 0.0})
    assert stance_b[None][1]["supportive"] == 1.0
    assert [s.sentences for s in result.a.stance] == [0, 0]
    assert result.a.boilerplate == [2] and result.b.boilerplate == []


def test_changes_are_ordered_strongest_first() -> None:
    a = [_sentence(i, f"a{i}", "neutral_reporting") for i in range(3)]
    b = [
        SentenceResult(0, 0, 2, "b0", False, _prediction("advocacy", FRAMING, p=0.5)),
        _sentence(1, "b1", "neutral_reporting"),
        SentenceResult(2, 0, 2, "b2", False, _prediction("advocacy", FRAMING, p=0.95)),
    ]
    result = build_comparison(a, b, np.eye(3), np.eye(3))
    assert [(p.a, p.b) for p in result.changes] == [(2, 2), (0, 0)]
    assert result.changes[0].strength > result.changes[1].strength


def test_rows_put_each_added_sentence_after_its_predecessor() -> None:
    a = [_sentence(i, f"a{i}", "advocacy") for i in range(3)]
    b = [_sentence(i, f"b{i}", "advocacy") for i in range(3)]
    # A0-B0 and A2-B1 pair; A1 is removed, B2 added.
    va = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]])
    vb = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]])
    result = build_comparison(a, b, va, vb)
    assert (result.removed, result.added) == ([1], [2])
    assert result.rows() == [(0, 0), (1, None), (2, 1), (None, 2)]


def test_comparison_round_trips_through_json() -> None:
    a = [_sentence(0, "a0", "advocacy", {None: "critical"})]
    result = build_comparison(a, a, np.eye(1), np.eye(1))
    data = json.loads(result.model_dump_json())
    assert data["pairs"][0]["changed"] is False
    assert data["a"]["sentences"][0]["framing"]["label"] == "advocacy"
    assert Comparison.model_validate(data) == result


# --- the seeds, with the real encoder -----------------------------------------------------


class HandLabelled(Presslens):
    """Labels the seeds' content sentences with their hand framing (seed_framing.json)."""

    def __init__(self, model: Presslens, labels: dict[str, list[list[str]]]) -> None:
        super().__init__(model.encoder, {}, model.card)
        self.labels = [pair for doc in labels.values() for pair in doc]

    def label_documents(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[LabelledDocument]:
        # the model's own split and alignment vectors; hand labels instead of its heads
        documents = super().label_documents(texts, targets)
        for document in documents:
            document.sentences[:] = [
                _sentence(s.index, s.text, None if s.boilerplate else self.hand_label(s.text),
                          None if s.boilerplate else {None: "neutral"}, s.boilerplate)
                for s in document.sentences]
        return documents

    def hand_label(self, text: str) -> str:
        matches = [label for opening, label in self.labels if text.startswith(opening)]
        assert len(matches) == 1, f"no single hand label for {text!r}"
        return matches[0]


@pytest.fixture(scope="module")
def seed_pairs() -> dict:
    return json.loads((FIXTURES / "seed_pairs.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Presslens:
    """The shipped model when it is built, else a small one trained from a corpus slice."""
    if (DEFAULT_MODEL_DIR / "card.json").is_file():
        return request.getfixturevalue("shipped_model")
    from training.fit import train

    with CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(7).shuffle(rows)
    picked = {id(r): r for head in (FRAMING, STANCE) for label in LABELS[head]
              for r in [r for r in rows if r[head] == label][:12]}
    data = tmp_path_factory.mktemp("data") / "small.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked.values())
    out = tmp_path_factory.mktemp("models") / "small"
    train([data], out, cache_dir=tmp_path_factory.mktemp("cache"))
    return Presslens.load(out)


@pytest.fixture(scope="module")
def hand_model(model: Presslens, seed_framing: dict) -> HandLabelled:
    return HandLabelled(model, seed_framing)


@pytest.fixture(scope="module")
def seed_comparison(hand_model: HandLabelled, seed_texts: dict[str, str]) -> Comparison:
    return compare(hand_model, seed_texts[ORIGINAL], seed_texts[REWRITE])


def _find(sentences: list[SentenceResult], opening: str, boilerplate: bool = False) -> int:
    found = [s.index for s in sentences
             if s.text.startswith(opening) and s.boilerplate == boilerplate]
    assert len(found) == 1, f"{opening!r} names {len(found)} sentences"
    return found[0]


def _expected_pairs(result: Comparison, fixture: dict) -> set[tuple[int, int]]:
    return {(_find(result.a.sentences, a), _find(result.b.sentences, b))
            for a, b in fixture["pairs"] if b is not None}


@pytest.mark.slow
def test_fixture_names_every_content_sentence_once(seed_comparison: Comparison,
                                                   seed_pairs: dict) -> None:
    named_a = [_find(seed_comparison.a.sentences, a) for a, _ in seed_pairs["pairs"]]
    named_b = [_find(seed_comparison.b.sentences, b) for _, b in seed_pairs["pairs"] if b]
    assert sorted(named_a) == [s.index for s in seed_comparison.a.sentences if not s.boilerplate]
    assert sorted(named_b) == [s.index for s in seed_comparison.b.sentences if not s.boilerplate]


@pytest.mark.slow
def test_seeds_pair_the_sentences_a_reader_pairs(seed_comparison: Comparison,
                                                 seed_pairs: dict) -> None:
    assert seed_pairs["a"] == ORIGINAL and seed_pairs["b"] == REWRITE
    produced = {(p.a, p.b) for p in seed_comparison.pairs}
    assert produced == _expected_pairs(seed_comparison, seed_pairs)
    only_a = [_find(seed_comparison.a.sentences, a) for a, b in seed_pairs["pairs"] if b is None]
    assert seed_comparison.removed == only_a
    assert seed_comparison.added == []


@pytest.mark.slow
def test_seeds_report_each_version_boilerplate_only_there(seed_comparison: Comparison,
                                                          seed_pairs: dict) -> None:
    for version, name in ((seed_comparison.a, ORIGINAL), (seed_comparison.b, REWRITE)):
        expected = [_find(version.sentences, o, boilerplate=True)
                    for o in seed_pairs["boilerplate"][name]]
        assert version.boilerplate == expected
    aligned_a = {p.a for p in seed_comparison.pairs} | set(seed_comparison.removed)
    aligned_b = {p.b for p in seed_comparison.pairs} | set(seed_comparison.added)
    assert not aligned_a & set(seed_comparison.a.boilerplate)
    assert not aligned_b & set(seed_comparison.b.boilerplate)


@pytest.mark.slow
def test_seeds_list_the_hand_labelled_framing_changes(seed_comparison: Comparison,
                                                      seed_pairs: dict,
                                                      hand_model: HandLabelled) -> None:
    expected = set()
    for a, b in _expected_pairs(seed_comparison, seed_pairs):
        label_a = hand_model.hand_label(seed_comparison.a.sentences[a].text)
        label_b = hand_model.hand_label(seed_comparison.b.sentences[b].text)
        if label_a != label_b:
            expected.add((a, b, label_a, label_b))
    assert expected, "the seeds' hand labels hold at least one framing change"
    listed = {(p.a, p.b, p.framing_a, p.framing_b) for p in seed_comparison.changes}
    assert listed == expected
    shares = seed_comparison.a.framing_shares, seed_comparison.b.framing_shares
    assert seed_comparison.framing_shift == {
        label: pytest.approx(shares[1][label] - shares[0][label], abs=1e-4)
        for label in LABELS[FRAMING]
    }


def _mirrored(result: Comparison) -> dict:
    """What the comparison of B with A must say, written from the comparison of A with B."""
    return {
        "pairs": sorted((p.b, p.a, p.framing_b, p.framing_a, p.by_position)
                        for p in result.pairs),
        "similarity": [p.similarity for p in sorted(result.pairs, key=lambda p: p.b)],
        "removed": result.added,
        "added": result.removed,
        "shift": {label: -shift + 0.0 for label, shift in result.framing_shift.items()},
        "changes": sorted((p.b, p.a, p.strength) for p in result.changes),
        "boilerplate": (result.b.boilerplate, result.a.boilerplate),
    }


def _summary(result: Comparison) -> dict:
    return {
        "pairs": sorted((p.a, p.b, p.framing_a, p.framing_b, p.by_position)
                        for p in result.pairs),
        "similarity": [p.similarity for p in result.pairs],
        "removed": result.removed,
        "added": result.added,
        "shift": result.framing_shift,
        "changes": sorted((p.a, p.b, p.strength) for p in result.changes),
        "boilerplate": (result.a.boilerplate, result.b.boilerplate),
    }


@pytest.mark.slow
@pytest.mark.parametrize("labeller", ["hand_model", "model"])
def test_swapping_versions_mirrors_the_result(request: pytest.FixtureRequest, labeller: str,
                                              seed_texts: dict[str, str]) -> None:
    model = request.getfixturevalue(labeller)
    forward = compare(model, seed_texts[ORIGINAL], seed_texts[REWRITE], ["Iran"])
    backward = compare(model, seed_texts[REWRITE], seed_texts[ORIGINAL], ["Iran"])
    expected, actual = _mirrored(forward), _summary(backward)
    assert actual["similarity"] == pytest.approx(expected.pop("similarity"), abs=2e-4)
    actual.pop("similarity")
    assert actual == expected
    assert forward.pairs, "the seeds align"
    for one, other in zip(forward.a.stance, backward.b.stance, strict=True):
        assert one == other


@pytest.mark.slow
@pytest.mark.parametrize("name", [ORIGINAL, REWRITE])
def test_an_article_compared_with_itself_changes_nothing(model: Presslens, name: str,
                                                         seed_texts: dict[str, str]) -> None:
    result = compare(model, seed_texts[name], seed_texts[name], ["Iran", "Russia"])
    content = [s.index for s in result.a.sentences if not s.boilerplate]
    assert [(p.a, p.b) for p in result.pairs] == [(i, i) for i in content]
    assert all(p.similarity == pytest.approx(1.0, abs=1e-3) for p in result.pairs)
    assert (result.removed, result.added, result.changes) == ([], [], [])
    assert set(result.framing_shift.values()) == {0.0}
    assert result.a.stance == result.b.stance
    assert result.a.boilerplate == result.b.boilerplate != []


@pytest.mark.slow
def test_real_model_changes_are_the_pairs_whose_labels_differ(model: Presslens,
                                                               seed_texts: dict[str, str]) -> None:
    result = compare(model, seed_texts[ORIGINAL], seed_texts[REWRITE], ["Iran"])
    for pair in result.pairs:
        a, b = result.a.sentences[pair.a], result.b.sentences[pair.b]
        assert (pair.framing_a, pair.framing_b) == (a.framing.label, b.framing.label)
        differs = a.framing.label != b.framing.label or any(s.changed for s in pair.stance)
        assert pair.changed == differs
    assert result.changes == sorted((p for p in result.pairs if p.changed),
                                    key=lambda p: -p.strength)


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_model(monkeypatch: pytest.MonkeyPatch, hand_model: HandLabelled) -> None:
    """The CLI loads the hand-labelled model instead of reading a model directory."""
    from presslens.commands import common

    monkeypatch.setattr(common, "load_model", lambda model_dir, backend: hand_model)


@pytest.mark.slow
@pytest.mark.usefixtures("cli_model")
def test_cli_compare_prints_json_and_tables() -> None:
    from presslens.cli import app

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    args = ["compare", str(seeds / ORIGINAL), str(seeds / REWRITE), "--target", "Iran"]
    as_json = CliRunner().invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["targets"] == ["Iran"] and data["changes"] and data["removed"]
    table = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "Side by side" in table.output and "Changes, strongest first" in table.output
    assert "— removed" in table.output and "Boilerplate only in" in table.output


def test_cli_compare_names_an_unreadable_file(tmp_path: Path) -> None:
    from presslens.cli import app

    missing = tmp_path / "missing.txt"
    result = CliRunner().invoke(app, ["compare", str(missing), str(missing)])
    assert result.exit_code == 2
    assert "missing.txt" in result.output
