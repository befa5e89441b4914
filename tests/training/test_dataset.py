"""CSV validation: every malformed input gets an error naming file, line and column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from training.dataset import MIN_PER_CLASS, PROGRESS_ROWS, DataError, load

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
        load([path], log=lambda _: None)
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


def test_a_byte_order_mark_is_read_as_predict_reads_it(write_csv: Callable[..., Path]) -> None:
    """``train`` refused a file with a BOM that ``predict`` read (Excel writes one)."""
    rows = good_rows()
    header = ",".join(rows[0])
    body = "".join(",".join(r.values()) + "\n" for r in rows)
    dataset = load([write_csv(raw=f"\ufeff{header}\n{body}".encode())], log=lambda _: None)
    assert dataset.heads() == ["framing", "stance"]
    assert dataset.rows[0].text == rows[0]["text"]


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


def test_a_directory_is_named_as_one(write_csv: Callable[..., Path], tmp_path: Path) -> None:
    """It was reported as "file not found"."""
    write_csv(good_rows(), name="a.csv")
    assert f"{tmp_path}: is a directory, not a CSV file (it holds a.csv: pass each with " \
        "--data)" in problems(tmp_path)


def test_a_field_over_the_csv_limit_names_file_and_line(write_csv: Callable[..., Path]) -> None:
    """It was an uncaught traceback naming neither."""
    path = write_csv(raw=b'text,framing\nfine.,advocacy\n"' + b"x" * 10_000_001
                     + b'",advocacy\n')
    message = problems(path)
    assert f"{path}, line 3: a field is longer than 10000000 characters" in message


def test_an_unterminated_quote_names_its_line(write_csv: Callable[..., Path]) -> None:
    """It read the rest of the file as one field, then said "no label column in any file"."""
    path = write_csv(raw=b'text,framing\nfine.,advocacy\n"open quote,advocacy\n'
                     b"later.,advocacy\nlast.,advocacy\n")
    message = problems(path)
    assert f"{path}, line 3: a quote (\") opened in this record is never closed" in message
    assert "no label column" not in message
    header = write_csv(raw=b'"text,framing\nfine.,advocacy\n', name="header.csv")
    assert f"{header}, line 1: a quote" in problems(header)


def test_a_quoted_text_over_several_lines_is_still_fine(write_csv: Callable[..., Path]) -> None:
    rows = good_rows()
    rows[-1]["text"] = "A text\nover two lines."
    dataset = load([write_csv(rows)], log=lambda _: None)
    assert dataset.rows[-1].text == "A text\nover two lines."


def test_a_duplicated_column_is_refused(write_csv: Callable[..., Path]) -> None:
    """The last of two 'framing' columns silently won."""
    path = write_csv(raw=b"text,framing,stance,framing\nHello.,advocacy,neutral,official_claim\n")
    assert f"{path}, line 1: column 'framing' appears 2 times (columns 2, 4)" in problems(path)


def test_reading_a_large_file_says_what_it_is_doing(write_csv: Callable[..., Path]) -> None:
    """200,000 rows were read in silence when stderr was not a terminal."""
    rows = [{"text": f"Sentence number {i} of the big file.", "framing": FRAMINGS[i % 3],
             "stance": STANCES[i % 3]} for i in range(2 * PROGRESS_ROWS + 5)]
    path = write_csv(rows)
    lines: list[str] = []
    load([path], log=lines.append)
    assert lines[0].startswith(f"reading {path} (")
    assert f"{path}: {PROGRESS_ROWS} rows read" in lines
    assert f"{path}: {2 * PROGRESS_ROWS} rows read" in lines
    assert f"{path}: {2 * PROGRESS_ROWS + 5} rows read in all" in lines
    assert f"checking {2 * PROGRESS_ROWS + 5} rows for conflicting labels" in lines


def test_train_names_the_problem_instead_of_a_traceback(
    write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from presslens.cli import app

    path = write_csv(raw=b'text,framing\n"' + b"x" * 10_000_001 + b'",advocacy\n')
    result = CliRunner().invoke(app, ["train", "--data", str(path), "--out",
                                      str(tmp_path / "model"), "--frozen"])
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # the console wraps long lines
    assert "line 2: a field is longer than 10000000 characters" in output
    assert result.exception is None or isinstance(result.exception, SystemExit)


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
