"""The CLI's outputs keep the user's data and say what is true on this machine."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from presslens.cli import app


def test_predict_keeps_gold_columns_and_writes_predictions_beside_them(
    tmp_path: Path, model_dir: Path
) -> None:
    data = tmp_path / "gold.csv"
    data.write_text("text,framing,target\n"
                    "The council met on Monday.,neutral_reporting,\n"
                    "The mayor said the plan works.,official_claim,mayor\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["predict", "--data", str(data), "--out", str(out),
                                      "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["framing"] for r in rows] == ["neutral_reporting", "official_claim"]
    assert all(r["pred_framing"] in {"neutral_reporting", "official_claim", "advocacy"}
               for r in rows)
    assert {"pred_stance", "pred_boilerplate", "p_framing_advocacy"} <= set(rows[0])


def test_predict_refuses_to_overwrite_a_column_of_the_input(
    tmp_path: Path, model_dir: Path
) -> None:
    data = tmp_path / "again.csv"
    data.write_text("text,pred_framing\nThe council met.,advocacy\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["predict", "--data", str(data), "--out", str(out),
                                      "--model", str(model_dir)])
    assert result.exit_code == 2
    assert "pred_framing" in result.output and not out.exists()


def test_help_speaks_to_users_not_developers() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "framed" in result.output and "Heavy imports" not in result.output
