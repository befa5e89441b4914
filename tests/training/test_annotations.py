"""Real-news annotations: keys without text, majority labels, agreement, the join, splits."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from training.annotation_keys import normalise, sentence_key
from training.annotation_passes import FIELDS, agreement, fleiss_kappa, majority, merge, read_pass
from training.annotations import ANNOTATIONS, SPLITS, load_real, of_split, split_of

ARTICLE = ("Headline of a made-up story\n\n"
           "The council met on Monday. Its chair said the vote was fair.")


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_key_ignores_whitespace_but_not_case() -> None:
    assert sentence_key("A  b\n c") == sentence_key(" A b c ") != sentence_key("a b c")
    assert normalise("  x \t y ") == "x y"


def test_the_committed_annotations_hold_keys_and_labels_never_text() -> None:
    with ANNOTATIONS.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == FIELDS
    assert len(rows) >= 8000
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["key"]) for r in rows)
    assert all(re.fullmatch(r"[ROAX]{3}", r["framing_passes"]) for r in rows)
    assert all(re.fullmatch(r"[SCN]{3}", r["stance_passes"]) for r in rows)
    assert all(len(r["article"]) < 80 for r in rows)
    assert not any(r["dataset"].endswith("_dev") for r in rows)
    labelled = Counter(r["framing"] for r in rows if r["framing"])
    assert labelled["advocacy"] >= 1500
    assert sum(labelled.values()) >= 8000


def test_majority_needs_two_of_three() -> None:
    assert majority(["R", "O", "R"]) == "R"
    assert majority(["R", "O", "A"]) is None


def test_a_malformed_pass_line_is_named_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "b01_p1.tsv"
    path.write_text("01-0001\tR\tN\n01-0002\tQ\tN\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b01_p1.tsv:2: .*'01-0002\\tQ\\tN'"):
        read_pass(path)


def test_fleiss_kappa_is_one_for_perfect_agreement_and_below_zero_for_systematic_split() -> None:
    perfect = np.array([[3, 0], [0, 3], [3, 0]])
    assert fleiss_kappa(perfect)[0] == pytest.approx(1.0)
    split = np.array([[2, 1], [1, 2], [2, 1], [1, 2]])
    assert fleiss_kappa(split)[0] < 0


def test_agreement_reports_pairwise_and_per_label_figures() -> None:
    report = agreement([list("RRA"), list("RRO"), list("RAO")], ("R", "O", "A", "X"))
    assert report["pairwise_agreement"] == {"0-1": pytest.approx(2 / 3, abs=1e-4),
                                            "0-2": pytest.approx(1 / 3, abs=1e-4),
                                            "1-2": pytest.approx(2 / 3, abs=1e-4)}
    assert report["per_label"]["R"]["times_given"] == 5
    assert set(report["per_label"]) == {"R", "O", "A"}


def _work_dir(tmp_path: Path, passes: dict[str, str], tiebreak: str | None = None) -> Path:
    (tmp_path / "batches").mkdir()
    (tmp_path / "passes").mkdir()
    _write(tmp_path / "batches" / "index.csv", [
        {"batch": "1", "id": f"01-000{i}", "dataset": "babe", "key": f"{i:064x}",
         "article": "", "publisher": ""} for i in (1, 2, 3)])
    for name, codes in passes.items():
        lines = [f"01-000{i}\t{c}\tN" for i, c in enumerate(codes, 1)]
        (tmp_path / "passes" / f"b01_{name}.tsv").write_text("\n".join(lines), encoding="utf-8")
    if tiebreak:
        (tmp_path / "passes" / "b01_tb.tsv").write_text(tiebreak, encoding="utf-8")
    return tmp_path


def test_merge_takes_the_majority_and_holds_back_ties_until_a_tiebreak(tmp_path: Path) -> None:
    work = _work_dir(tmp_path, {"p1": "RRX", "p2": "ROX", "p3": "RAA"})
    rows, report, ties = merge(work)
    assert [r["framing"] for r in rows] == ["neutral_reporting", ""]  # X majority: not prose
    assert ties == ["01-0002"]
    assert report["sentences_with_three_passes"] == 3
    (work / "passes" / "b01_tb.tsv").write_text("01-0002\tO\tC\n", encoding="utf-8")
    rows, _, ties = merge(work)
    tied = next(r for r in rows if r["key"] == f"{2:064x}")
    assert (tied["framing"], tied["stance"], tied["decided_by"]) == (
        "official_claim", "neutral", "tiebreak")
    assert ties == []


def test_splits_are_fixed_by_group_and_near_their_shares() -> None:
    groups = [f"article-{i}" for i in range(4000)]
    assert [split_of(g) for g in groups[:50]] == [split_of(g) for g in groups[:50]]
    shares = Counter(split_of(g) for g in groups)
    for name, share in SPLITS:
        assert shares[name] / len(groups) == pytest.approx(share, abs=0.03)


def test_load_real_joins_keys_with_text_and_splits_articles_like_presslens(
    tmp_path: Path,
) -> None:
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    _write(datasets / "polnear_train_articles.csv", [
        {"article": "a1", "publisher": "nyt", "date": "2016-01-01", "title": "t",
         "text": ARTICLE}])
    _write(datasets / "babe.csv", [{"text": "A  made-up   opinion sentence.", "label_bias": ""}])
    said = "Its chair said the vote was fair."
    annotations = _write(tmp_path / "real.csv", [
        {"dataset": "polnear_train_articles", "key": sentence_key(said), "article": "a1",
         "publisher": "nyt", "framing": "official_claim", "stance": "supportive",
         "framing_passes": "OOO", "stance_passes": "SSN", "decided_by": "majority"},
        {"dataset": "babe", "key": sentence_key("A made-up opinion sentence."), "article": "",
         "publisher": "", "framing": "advocacy", "stance": "critical",
         "framing_passes": "AAR", "stance_passes": "CCC", "decided_by": "majority"},
        {"dataset": "babe", "key": "f" * 64, "article": "", "publisher": "",
         "framing": "advocacy", "stance": "critical", "framing_passes": "AAA",
         "stance_passes": "CCC", "decided_by": "majority"},
    ])
    messages: list[str] = []
    real = load_real(datasets, annotations, messages.append)
    assert [(s.text, s.group, s.publisher) for s in real] == [
        ("A made-up opinion sentence.", f"babe:{sentence_key('A made-up opinion sentence.')[:16]}",
         ""),
        (said, "a1", "nyt"),
    ]
    assert messages == ["real-news annotations: 1 keys of babe not found in its file; skipped"]
    assert all(s.split == split_of(s.group) for s in real)
    assert of_split(real, real[0].split) == [r for r in real if r.split == real[0].split]


def test_load_real_says_what_it_skips_when_the_datasets_are_absent(tmp_path: Path) -> None:
    annotations = _write(tmp_path / "real.csv", [
        {"dataset": "babe", "key": "0" * 64, "article": "", "publisher": "",
         "framing": "advocacy", "stance": "critical", "framing_passes": "AAA",
         "stance_passes": "CCC", "decided_by": "majority"}])
    messages: list[str] = []
    assert load_real(tmp_path / "nowhere", annotations, messages.append) == []
    assert messages == [f"real-news annotations: {tmp_path / 'nowhere' / 'babe.csv'} absent; "
                        "skipped 1 labelled sentences"]
    assert load_real(tmp_path, tmp_path / "none.csv", messages.append) == []
    assert messages[-1].endswith("none.csv not found; skipped")
