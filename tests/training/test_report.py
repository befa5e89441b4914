"""The evaluation report: intervals that hold their estimates, tables that show real errors,
plots that load in a browser, and a proxies section that says when it was skipped."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from model.labels import FRAMING, LABELS, STANCE
from model.predict import Presslens
from presslens import cli
from presslens.commands import common
from training.dataset import Row
from training.metrics import head_metrics
from training.report import build_report, head_views
from training.report_groups import group_values
from training.report_intervals import Bootstrap, intervals, scores_from_confusion
from training.report_proxies import proxy_section

ROOT = Path(__file__).resolve().parents[2]
TEST_CSV = ROOT / "training" / "data" / "test.csv"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAST = Bootstrap(resamples=300)


def _corpus_slice(every: int) -> list[dict[str, str]]:
    with TEST_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))[::every]


@pytest.fixture(scope="module")
def slice_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every sixth row of the held-out split: every story, both heads, about 130 rows."""
    rows = _corpus_slice(6)
    path = tmp_path_factory.mktemp("eval") / "slice.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def small_model(small_model_dir: Path) -> Presslens:
    return Presslens.load(small_model_dir)


@pytest.fixture(scope="module")
def report(
    tmp_path_factory: pytest.TempPathFactory, small_model: Presslens, slice_csv: Path,
    small_csv: Path,
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("report")
    absent = tmp_path_factory.mktemp("nodatasets") / "absent"
    build_report(small_model, [slice_csv], out, baseline_train=small_csv, datasets_dir=absent,
                 settings=FAST, cache_dir=None)
    return out, json.loads((out / "metrics.json").read_text(encoding="utf-8"))


# --- intervals, without the encoder ------------------------------------------------------

def test_scores_from_confusion_equal_head_metrics() -> None:
    rng = np.random.default_rng(3)
    classes = list(LABELS[FRAMING])
    y_true = rng.integers(0, 3, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 3, 200))
    y_pred[y_pred == 2] = 1  # one class never predicted: precision's zero division
    expected = head_metrics([classes[i] for i in y_true], np.eye(3)[y_pred], classes)
    confusion = np.array(expected["confusion"], dtype=float)
    scores = scores_from_confusion(confusion)
    assert scores[0] == pytest.approx(expected["accuracy"], abs=1e-4)
    assert scores[1] == pytest.approx(expected["macro_f1"], abs=1e-4)
    for i, label in enumerate(classes):
        for block, name in enumerate(("precision", "recall", "f1")):
            assert scores[2 + block * 3 + i] == pytest.approx(
                expected["per_class"][label][name], abs=1e-4)


def test_paired_margin_is_zero_for_a_copy_and_positive_for_a_better_system() -> None:
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 3, 300)
    good = np.where(rng.random(300) < 0.9, y_true, (y_true + 1) % 3)
    bad = np.where(rng.random(300) < 0.5, y_true, (y_true + 1) % 3)
    _, _, copy_low, copy_high = intervals(y_true, [good, good], 3, FAST)
    assert copy_low.tolist() == copy_high.tolist() == [[0.0, 0.0]]
    low, high, margin_low, _ = intervals(y_true, [good, bad], 3, FAST)
    assert (margin_low > 0).all()
    assert (low[0, :2] > high[1, :2]).all()  # 0.9 vs 0.5 right: the intervals do not touch


def test_group_column_that_repeats_another_grouping_is_left_out() -> None:
    rows = [Row("f.csv", n, f"Sentence {n}.", None, {FRAMING: "advocacy"}) for n in range(2, 8)]
    columns = [("a", "x", "wire"), ("a", "x", "opinion"), ("b", "y", "wire"),
               ("b", "y", "wire"), ("c", "z", "opinion"), ("c", "z", "wire")]
    records = {("f.csv", n): {"story": s, "topic": t, "register": r}
               for n, (s, t, r) in zip(range(2, 8), columns, strict=True)}
    found = group_values(rows, records)
    assert list(found) == ["story", "register"]
    assert found["story"] == ["a", "a", "b", "b", "c", "c"]


# --- the report on a slice of the held-out split -----------------------------------------

def test_metrics_json_has_every_section(report: tuple[Path, dict[str, Any]]) -> None:
    _, metrics = report
    assert {"model", "data", "bootstrap", "baseline", "warnings", "heads", "proxies", "plots",
            "elapsed_s"} <= set(metrics)
    assert set(metrics["heads"]) == {FRAMING, STANCE}
    for head, section in metrics["heads"].items():
        assert {"n", "labels", "model", "baseline", "margin", "examples", "groups",
                "plots"} <= set(section)
        model = section["model"]
        assert set(model["per_class"]) == set(LABELS[head])
        assert sum(c["support"] for c in model["per_class"].values()) == section["n"]
        baseline = section["baseline"]
        assert np.sum(model["confusion"]) == np.sum(baseline["confusion"]) == section["n"]
        assert "story" in section["groups"]
        assert sum(g["n"] for g in section["groups"]["story"]) == section["n"]
        assert set(section["plots"]) >= {"confusion", "reliability", "groups"}


def test_intervals_bracket_their_point_estimates(report: tuple[Path, dict[str, Any]]) -> None:
    _, metrics = report
    checked = 0
    for section in metrics["heads"].values():
        for system in ("model", "baseline"):
            figures = section[system]
            for name in ("accuracy", "macro_f1"):
                low, high = figures["ci"][name]
                assert low <= figures[name] <= high, (system, name)
                assert high - low < 0.5
                checked += 1
            for label, per_class in figures["per_class"].items():
                for name in ("precision", "recall", "f1"):
                    low, high = figures["ci"]["per_class"][label][name]
                    assert low <= per_class[name] <= high, (system, label, name)
                    checked += 1
        for name, margin in section["margin"].items():
            expected = section["model"][name] - section["baseline"][name]
            assert margin["value"] == pytest.approx(expected, abs=1e-4)
            assert margin["ci"][0] <= margin["value"] <= margin["ci"][1]
    assert checked == 2 * 2 * (2 + 3 * 3)


def test_error_tables_show_confident_mistakes_and_unsure_right_answers(
    report: tuple[Path, dict[str, Any]],
) -> None:
    _, metrics = report
    for section in metrics["heads"].values():
        mistakes = section["examples"]["confident_mistakes"]
        unsure = section["examples"]["unsure_correct"]
        assert mistakes and unsure
        assert all(e["gold"] != e["predicted"] for e in mistakes)
        assert all(e["gold"] == e["predicted"] for e in unsure)
        confidences = [e["confidence"] for e in mistakes]
        assert confidences == sorted(confidences, reverse=True)
        confidences = [e["confidence"] for e in unsure]
        assert confidences == sorted(confidences)
        assert all(e["text"] and e["where"].startswith("slice.csv:") for e in mistakes + unsure)


def test_proxies_section_says_it_was_skipped(report: tuple[Path, dict[str, Any]]) -> None:
    out, metrics = report
    assert "absent" in metrics["proxies"]["skipped"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Skipped: no proxy datasets at" in html
    assert not (out / "roc_proxies.png").exists()


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.sources.append(values["src"] or "")
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(values[name] or "")


def test_html_references_only_local_images_that_exist(report: tuple[Path, dict[str, Any]]) -> None:
    out, _ = report
    parser = _Images()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    assert len(parser.sources) >= 1 + 2 * 4  # headline, per head: 2 confusions, reliability, story
    for source in parser.sources:
        assert (out / source).read_bytes().startswith(b"\x89PNG"), source
    assert not [link for link in parser.links if "://" in link]


@pytest.mark.browser
def test_report_opens_in_chromium_with_every_image_loaded(
    report: tuple[Path, dict[str, Any]],
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    out, _ = report
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto((out / "report.html").as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, "
                "i.naturalWidth])"
            )
        finally:
            browser.close()
    assert len(images) >= 9
    assert [src for src, complete, width in images if not (complete and width > 0)] == []


# --- proxies present, and the command line -----------------------------------------------

def _fake_datasets(directory: Path) -> Path:
    """Proxy files in the real sets' format, built from the project's own corpus sentences."""
    rows = _corpus_slice(9)
    targeted = [r for r in rows if r["target"]]
    files = {
        "newsmtsc_rw_dev.csv": [{"text": r["text"], "target": r["target"], "stance": r["stance"]}
                                for r in targeted],
        "subjectivity_dev.csv": [{"text": r["text"], "subjective": int(r["framing"] == "advocacy")}
                                 for r in rows],
        "polnear_attribution_dev.csv": [
            {"text": r["text"], "attributed": int(r["framing"] == "official_claim")} for r in rows],
    }
    directory.mkdir()
    for name, content in files.items():
        with (directory / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(content[0]))
            writer.writeheader()
            writer.writerows(content)
    return directory


def test_proxies_section_scores_stance_and_draws_roc_curves(
    small_model: Presslens, tmp_path: Path
) -> None:
    views = head_views(small_model, cache_dir=None)
    section = proxy_section(views, _fake_datasets(tmp_path / "datasets"), tmp_path, FAST)
    assert "skipped" not in section
    stance = section["stance"]["newsmtsc_rw_dev"]
    assert stance["ci"]["macro_f1"][0] <= stance["macro_f1"] <= stance["ci"]["macro_f1"][1]
    assert set(section["scores"]) == {"subjectivity_dev", "polnear_attribution_dev"}
    for scores in section["scores"].values():
        assert 0.0 <= scores["auc_ci"][0] <= scores["auc"] <= scores["auc_ci"][1] <= 1.0
    assert (tmp_path / section["plots"]["roc"]).read_bytes().startswith(b"\x89PNG")


@pytest.fixture
def cli_with_model(small_model: Presslens, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The command line, handed the already loaded small model instead of loading one."""
    monkeypatch.setattr(common, "load_model", lambda model_dir, backend: small_model)
    return CliRunner()


def test_evaluate_report_option_writes_the_report(
    cli_with_model: CliRunner, small_csv: Path, tmp_path: Path,
    write_csv: Callable[..., Path],
) -> None:
    data = write_csv(_corpus_slice(40), name="tiny.csv")
    out = tmp_path / "report"
    result = cli_with_model.invoke(cli.app, [
        "evaluate", "--data", str(data), "--report", str(out), "--baseline-train", str(small_csv),
        "--datasets", str(tmp_path / "absent"), "--no-cache", "--json",
    ])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout[result.stdout.index("{"):])
    written = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert printed[FRAMING]["macro_f1"] == written["heads"][FRAMING]["model"]["macro_f1"]
    assert (out / "report.html").is_file()


def test_evaluate_report_names_the_bad_row_and_writes_nothing(
    cli_with_model: CliRunner, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    data = write_csv(raw=b"text,framing\nFine.,advocacy\nBad.,opinion\n")
    out = tmp_path / "report"
    result = cli_with_model.invoke(cli.app, ["evaluate", "--data", str(data), "--report", str(out)])
    assert result.exit_code == 2
    assert "line 3 ('opinion')" in result.output
    assert not out.exists()
