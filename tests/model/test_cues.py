"""The framing cues fire on the signals LABELS.md names, and only on them."""

from __future__ import annotations

import numpy as np

from model.cues import CUES, cue_matrix


def _fired(text: str) -> set[str]:
    row = cue_matrix([text])[0]
    return {name for name, value in zip(CUES, row, strict=True) if value}


def test_a_call_to_action_fires_the_call_cue_even_from_an_official() -> None:
    fired = _fired("Kellogg urged the US to adopt maximum pressure on Iran.")
    assert "call_to_action" in fired
    assert "reporting_verb" not in fired


def test_attribution_fires_the_reporting_cues() -> None:
    fired = _fired('"Iran is an important partner," Kremlin spokesperson Dmitry Peskov told press, '
                   "according to a Reuters report.")
    assert {"reporting_verb", "according_to", "quotation", "office", "news_outlet"} <= fired
    assert "call_to_action" not in fired


def test_the_united_states_is_not_first_person() -> None:
    assert "first_person" not in _fired("The US and Iran met in Oman on Friday.")
    assert "first_person" in _fired("We will not let this stand, she said.")


def test_a_plain_fact_fires_no_voice_cue() -> None:
    fired = _fired("The bridge reopened to traffic in 2019 after repairs.")
    assert fired == {"number"}


def test_one_binary_row_per_text_even_for_none() -> None:
    matrix = cue_matrix(["Leaders must act now!", "Rain fell."])
    assert matrix.shape == (2, len(CUES))
    assert set(np.unique(matrix)) <= {0.0, 1.0}
    assert cue_matrix([]).shape == (0, len(CUES))
