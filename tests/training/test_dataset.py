"""CSV validation: every malformed input gets an error naming file, line and column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from training.dataset import MIN_PER_CLASS, DataError, load

FRAMINGS = ("neutral_reporting", "official_claim", "advocacy")
STANCES = ("supportive", "critical", "neutral")


def good_rows(n: int = MIN_PER_CLASS + 1) -> list[dict[str, str]]:
    return [
        {"text": f"Sentence number {i} about {framing}.", "framing": framing,
         "stance": STANCES[i % 3], "target": ""}
        for framing in FRAMINGS
        for i in range(n)
    ]


def problems(path: Path) -> str:
    with pytest.raises(DataError) as caught:
        load([path])
    return str(caught.value)


def test_valid_file_loads_and_names_its_heads(write_csv: Callable[..., Path]) -> None:
    dataset = load([write_csv(good_rows())])
    assert dataset.heads() == ["framing", "stance"]
    assert dataset.files[0].rows == 3 * (MIN_PER_CLASS + 1)
    assert len(dataset.files[0].sha256) == 64


def test_missing_text_column(write_csv: Callable[..., Path]) -> None:
    path = write_csv([{"sentence": "x", "framing": "advocacy"}])
    message = problems(path)
    assert str(path) in message and "missing required column 'text'" in message
    assert "'sentence'" in message


def test_unknown_labels_list_their_lines(write_csv: Callable[..., Path]) -> None:
    rows = good_rows()
    rows[2]["framing"] = "Advocacy"
    rows[5]["stance"] = "positive"
    message = problems(write_csv(rows))
    assert "column 'framing'" in message and "line 4 ('Advocacy')" in message
    assert "column 'stance'" in message and "line 7 ('positive')" in message


def test_empty_text(write_csv: Callable[..., Path]) -> None:
    rows = good_rows()
    rows[0]["text"] = "   "
    assert "column 'text': empty text on line 2" in problems(write_csv(rows))


def test_byte_order_mark(write_csv: Callable[..., Path]) -> None:
    path = write_csv(raw="\ufefftext,framing\nHello.,advocacy\n".encode())
    assert "byte-order mark" in problems(path)


def test_invalid_utf8_names_the_line(write_csv: Callable[..., Path]) -> None:
    path = write_csv(raw=b"text,framing\nfine.,advocacy\nbad \xff byte,advocacy\n")
    assert "line 3: not valid UTF-8" in problems(path)


def test_conflicting_duplicates_across_files(write_csv: Callable[..., Path]) -> None:
    first = write_csv(good_rows(), name="a.csv")
    clash = good_rows()
    clash[0]["framing"] = "advocacy"
    second = write_csv(clash, name="b.csv")
    with pytest.raises(DataError) as caught:
        load([first, second])
    message = str(caught.value)
    assert "conflicting 'framing' labels" in message
    assert "a.csv line 2: neutral_reporting" in message and "b.csv line 2: advocacy" in message


def test_same_text_may_take_different_stances_toward_different_targets(
    write_csv: Callable[..., Path],
) -> None:
    rows = good_rows()
    text = "The union praised the mayor but attacked the council."
    rows += [
        {"text": text, "framing": "neutral_reporting", "stance": "supportive", "target": "mayor"},
        {"text": text, "framing": "neutral_reporting", "stance": "critical", "target": "council"},
    ]
    dataset = load([write_csv(rows)])
    assert len(dataset.for_head("stance")) == len(rows)
    assert len(dataset.for_head("framing")) == len(rows) - 1


def test_too_few_examples_of_a_class(write_csv: Callable[..., Path]) -> None:
    rows = [r for r in good_rows() if r["framing"] != "advocacy"] + good_rows(2)[-2:]
    message = problems(write_csv(rows))
    assert "column 'framing': class 'advocacy' has 2 example(s)" in message


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in problems(tmp_path / "nope.csv")


def test_every_problem_is_reported_at_once(write_csv: Callable[..., Path]) -> None:
    rows = good_rows()
    rows[0]["text"] = ""
    rows[1]["framing"] = "opinion"
    message = problems(write_csv(rows))
    assert "empty text" in message and "unknown label" in message


def test_every_problem_is_reported_in_one_pass_unwrapped(write_csv) -> None:
    """An unknown label and a conflicting duplicate both come back at once."""
    from typer.testing import CliRunner

    from presslens.cli import app

    path = write_csv([
        {"text": "The council met.", "framing": "opinion"},
        {"text": "The mayor said so.", "framing": "official_claim"},
        {"text": "The mayor said so.", "framing": "advocacy"},
    ])
    with pytest.raises(DataError) as raised:
        load([path])
    problems = raised.value.problems
    assert any("unknown label" in p for p in problems)
    assert any("conflicting 'framing' labels" in p for p in problems)
    result = CliRunner().invoke(app, ["train", "--data", str(path), "--out", str(path.parent / "m"),
                                      "--frozen"], env={"COLUMNS": "40"})
    assert result.exit_code == 2
    line = next(line for line in result.output.splitlines() if "conflicting" in line)
    assert "advocacy" in line and "official_claim" in line  # not wrapped mid-phrase
