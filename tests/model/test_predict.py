"""The shipped model on the seeds, and target-conditioned stance."""

from __future__ import annotations

from model.features import Unit
from model.labels import LABELS
from model.predict import Presslens, mentioned_targets

# The shipped model's level on the seeds (35 of 37; the real-news issue asks for 0.90). The
# two misses are characterisations in the reporter's voice ("Two of America's adversaries
# are solidifying their ties…", "The regime in Teheran is being opposed…", rule 4) read as
# neutral_reporting. This floor catches regressions: a rebuild that labels one more seed
# sentence wrong fails it.
SEED_FRAMING_FLOOR = 0.94


def test_seed_framing_agrees_with_hand_labels(
    shipped_model: Presslens, seed_texts: dict[str, str], seed_framing: dict[str, list[list[str]]]
) -> None:
    """Seed content sentences labelled as LABELS.md says, at least at the shipped level."""
    gold, predicted = [], []
    for name, labels in seed_framing.items():
        content = [s for s in shipped_model.classify(seed_texts[name]) if not s.boilerplate]
        gold += [label for _, label in labels]
        predicted += [s.framing.label for s in content if s.framing]
    agreement = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    assert agreement >= SEED_FRAMING_FLOOR, f"{agreement:.2%} agree with the hand labels"


def test_boilerplate_is_flagged_not_classified(
    shipped_model: Presslens, seed_texts: dict[str, str]
) -> None:
    sentences = [s for text in seed_texts.values() for s in shipped_model.classify(text)]
    furniture = [s for s in sentences if s.boilerplate]
    assert len(furniture) == 10
    assert all(s.framing is None and s.stance == [] for s in furniture)
    assert all(s.framing is not None and len(s.stance) == 1 for s in sentences if not s.boilerplate)


def test_two_targets_in_one_sentence_get_different_stances(shipped_model: Presslens) -> None:
    text = ("The mayor praised the firefighters for their courage but blasted the utility "
            "company for ignoring repeated warnings.")
    firefighters, utility = shipped_model.predict_units(
        [Unit(text, "firefighters"), Unit(text, "utility company")]
    )
    assert firefighters["stance"].label == "supportive"
    assert utility["stance"].label == "critical"
    assert firefighters["framing"] == utility["framing"]


def test_classify_gives_one_stance_per_mentioned_target(shipped_model: Presslens) -> None:
    text = "Russia praised Iran as a reliable partner. The weather in Moscow was mild."
    first, second = shipped_model.classify(text, ["Iran", "Russia", "China"])
    assert [p.target for p in first.stance] == ["Iran", "Russia"]
    assert [p.target for p in second.stance] == [None]


def test_probabilities_cover_every_label_and_sum_to_one(shipped_model: Presslens) -> None:
    (result,) = shipped_model.predict_units([Unit("The council must act now.")])
    for head, prediction in result.items():
        assert set(prediction.scores) == set(LABELS[head])
        assert abs(sum(prediction.scores.values()) - 1) < 1e-3
        assert prediction.confidence == max(prediction.scores.values())


def test_target_mentions_are_word_bounded() -> None:
    assert mentioned_targets("Iran's president and the US met.", ["Iran", "US", "Russia"]) == [
        "Iran", "US",
    ]
    assert mentioned_targets("They told us about the plan.", ["US"]) == []
    assert mentioned_targets("Sanctions on iran widened.", ["Iran"]) == ["Iran"]


def test_a_loaded_model_saves_beside_where_it_loads(tmp_path) -> None:
    from model.artifact import read_card

    model = Presslens.load(None, "onnx")
    model.save(tmp_path / "copy")
    again = Presslens.load(tmp_path / "copy", "onnx")
    assert read_card(tmp_path / "copy").files == model.card.files
    text = "The minister said the plan would work. Voters must reject it."
    assert ([s.framing.scores for s in again.classify(text, ["minister"])]
            == [s.framing.scores for s in model.classify(text, ["minister"])])
    in_memory = Presslens(model.encoder, model.heads, model.card)
    import pytest

    with pytest.raises(ValueError, match="built in memory"):
        in_memory.save(tmp_path / "other")
