"""``presslens score --engine local``: the two tables and their documented columns, the
rejects with file and line, resuming after a crash without writing anything twice."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import pytest
from typer.testing import CliRunner

from archive.output import write_part
from archive.run import ScoreError, ScoreOptions, score
from archive.schema import SENTENCE_SCHEMA, SUMMARY_FIELDS, summary_schema
from model.labels import FRAMING, LABELS, STANCE
from presslens.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scale.md"


def run_local(archive: Path, out: Path, **options) -> object:
    return score(ScoreOptions(input=archive, out=out, engine="local", **options))


def test_a_folder_of_json_lines_and_csv_becomes_two_tables(
        messy_archive: Path, tmp_path: Path, read_tables, messy_rejects):
    out = tmp_path / "out"
    summary_run = run_local(messy_archive, out, batch_size=3)
    assert (summary_run.articles, summary_run.rejects) == (7, len(messy_rejects))

    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [(r["file"], r["line"]) for r in rejects] == [(f, n) for f, n, _ in messy_rejects]
    for reject, (_, _, reason) in zip(rejects, messy_rejects, strict=True):
        assert reason in reject["reason"]

    carried = ["outlet", "date"]
    assert pads.dataset(out / "articles").schema == summary_schema(carried)
    assert pads.dataset(out / "sentences").schema == SENTENCE_SCHEMA
    summary, sentences = read_tables(out)
    assert summary["id"].is_unique and len(summary) == 7
    assert set(sentences["id"]) == set(summary["id"])
    assert not sentences.duplicated(["id", "index", "target"]).any()
    assert sentences["boilerplate"].any()  # the corpus articles with page furniture

    inputs = _inputs(messy_archive)
    primary = sentences[sentences["primary"]]
    for article in summary.itertuples():
        mine = primary[primary["id"] == article.id]
        content = mine[~mine["boilerplate"]]
        assert article.sentences == len(mine) == mine["index"].nunique()
        assert article.content_sentences == len(content)
        for label in LABELS[FRAMING]:
            share = (content["framing"] == label).mean()
            assert getattr(article, f"framing_{label}") == pytest.approx(share, abs=1e-6)
        rows = sentences[(sentences["id"] == article.id) & ~sentences["boilerplate"]]
        for label in LABELS[STANCE]:
            untargeted = rows[rows["target"].isna()]
            assert getattr(article, f"stance_{label}") == (untargeted["stance"] == label).sum()
        for entry in article.target_stance:
            named = rows[rows["target"] == entry["target"]]
            assert entry["mentions"] == len(named)
            assert sum(entry[label] for label in LABELS[STANCE]) == len(named)
        text = inputs[article.id]
        for s in mine.itertuples():
            assert text[s.start:s.end] == s.text
    boiler = sentences[sentences["boilerplate"]]
    assert boiler["framing"].isna().all() and boiler["stance"].isna().all()

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["carried"] == carried
    assert manifest["runs"][-1]["finished"] and manifest["runs"][-1]["articles"] == 7


def _inputs(folder: Path) -> dict[str, str]:
    import pandas as pd

    texts = {}
    for path in folder.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            texts.setdefault(str(record.get("id")), record.get("text"))
    for path in folder.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, on_bad_lines="skip")
        texts.update((i, t) for i, t in zip(frame["id"], frame["text"], strict=True)
                     if i not in texts)
    return texts


class CrashError(RuntimeError):
    pass


def test_a_rerun_after_a_crash_writes_each_article_once(
        make_archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_tables):
    archive = make_archive(24)
    written = []

    def crash_on_the_third_part(root: Path, labelled):
        if len(written) == 2:
            raise CrashError("the machine went down")
        written.append(labelled.num_rows)
        return write_part(root, labelled)

    out = tmp_path / "out"
    monkeypatch.setattr("archive.local_engine.write_part", crash_on_the_third_part)
    with pytest.raises(CrashError):
        run_local(archive, out, batch_size=2, part_rows=4)
    monkeypatch.undo()
    first_summary, _ = read_tables(out)
    assert len(first_summary) == sum(written) == 8

    again = run_local(archive, out, batch_size=2, part_rows=4)
    assert (again.already_written, again.articles) == (8, 16)
    summary, sentences = read_tables(out)
    assert summary["id"].is_unique and len(summary) == 24
    assert not sentences.duplicated(["id", "index", "target"]).any()
    assert set(first_summary["id"]) <= set(summary["id"])

    once = tmp_path / "once"
    run_local(archive, once, batch_size=5)
    expected_summary, expected_sentences = read_tables(once)
    _same_labels(sentences, expected_sentences)
    assert summary["sentences"].tolist() == expected_summary["sentences"].tolist()

    nothing = run_local(archive, out)
    assert (nothing.already_written, nothing.articles) == (24, 0)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["finished"] for r in manifest["runs"]] == [False, True, True]


def _same_labels(got, expected) -> None:
    """The same rows and labels; probabilities to rounding (batches differ across runs)."""
    key = ["id", "index", "target"]
    assert got[key].equals(expected[key])
    for column in ("framing", "stance", "boilerplate", "primary", "start", "end", "text"):
        assert got[column].equals(expected[column]), column
    probabilities = [c for c in got if c.startswith("p_") or c.endswith("_confidence")]
    np.testing.assert_allclose(got[probabilities].to_numpy(dtype=float),
                               expected[probabilities].to_numpy(dtype=float), atol=2e-3)


def test_a_rerun_refuses_another_model_or_other_columns(make_archive, tmp_path: Path):
    archive = make_archive(6)
    out = tmp_path / "out"
    run_local(archive, out)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(manifest | {"model_version": "older"}))
    with pytest.raises(ScoreError, match="holds labels from presslens-default older"):
        run_local(archive, out)
    manifest_path.write_text(json.dumps(manifest))
    (archive / "more.jsonl").write_text(json.dumps({"id": "new", "text": "A new one.",
                                                    "url": "https://x"}) + "\n")
    with pytest.raises(ScoreError, match="carried columns"):
        run_local(archive, out)
    (archive / "more.jsonl").write_text(json.dumps({"id": "new", "text": "A new one.",
                                                    "sentences": 3}) + "\n")
    with pytest.raises(ScoreError, match="clash"):
        run_local(archive, tmp_path / "elsewhere")


def test_the_command_reports_rejects_and_a_summary(messy_archive: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["score", str(messy_archive), "--out", str(out),
                                      "--engine", "local"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps lines at the terminal's width
    assert "rejected news.jsonl:5: missing id" in said
    assert "rejected wire.csv:7: duplicate id (first at news.jsonl:2)" in said
    assert re.search(r"done: 7 article\(s\), \d+ sentence row\(s\) written, 8 rejected", said)
    missing = CliRunner().invoke(app, ["score", str(tmp_path / "nope"), "--out", str(out)])
    assert missing.exit_code == 2 and "does not exist" in " ".join(missing.output.split())
    torch = CliRunner().invoke(app, ["score", str(messy_archive), "--out", str(out),
                                     "--backend", "torch"])
    assert torch.exit_code == 2 and "torch-free" in " ".join(torch.output.split())


def test_scoring_never_imports_torch(make_archive, tmp_path: Path):
    archive, out = make_archive(3), tmp_path / "out"
    code = ("import sys; from presslens.cli import app\n"
            f"app(['score', {str(archive)!r}, '--out', {str(out)!r}, '--engine', 'local'],"
            " standalone_mode=False)\n"
            "print('torch imported:', 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "torch imported: False" in done.stdout


def test_the_documentation_lists_every_column():
    text = DOC.read_text(encoding="utf-8")
    names = [f.name for f in SENTENCE_SCHEMA] + ["id"] + [f.name for f in SUMMARY_FIELDS]
    names += [f.name for f in SUMMARY_FIELDS[-1].type.value_type]
    missing = sorted({n for n in names if f"`{n}`" not in text})
    assert not missing, f"docs/scale.md does not document {missing}"


def test_an_output_folder_inside_the_input_is_not_read_as_input(make_archive):
    archive = make_archive(3)
    first = run_local(archive, archive / "scored")
    again = run_local(archive, archive / "scored")
    assert (first.articles, again.articles, again.already_written, again.rejects) == (3, 0, 3, 0)
