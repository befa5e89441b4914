"""``presslens evaluate``: per-head metrics of a model on labelled CSVs, or the full report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from presslens.commands import common
from presslens.commands.common import BackendOption, ModelOption, console, err, fail


def evaluate(
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="Labelled CSV; repeatable.")
    ] = None,
    real_news: Annotated[
        bool, typer.Option("--real-news", help="Also score the held-out split of the project's "
                           "real-news annotations (needs ../shared/datasets).")
    ] = False,
    model_dir: ModelOption = None,
    backend: BackendOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write report.html, metrics.json and plots here."),
    ] = None,
    baseline_train: Annotated[
        Path | None,
        typer.Option("--baseline-train", help="CSV the report's TF-IDF baseline is trained on "
                     "(default: training/data/train.csv)."),
    ] = None,
    datasets: Annotated[
        Path | None,
        typer.Option("--datasets", help="Proxy datasets folder for the report "
                     "(default: PRESSLENS_DATASETS or ../shared/datasets)."),
    ] = None,
    cache: Annotated[
        bool, typer.Option(help="Reuse training's feature cache (PRESSLENS_CACHE_DIR) for the "
                           "report's embeddings; --no-cache embeds everything afresh."),
    ] = True,
) -> None:
    """Per-head macro-F1, per-class precision/recall/F1 and the confusion matrix; with
    --report, an HTML report with intervals, plots, errors, a baseline and the proxies."""
    from training.dataset import DataError
    from training.evaluate import evaluate_files, real_news_test

    data = data or []
    if not data and not real_news:
        raise fail("give --data CSV (repeatable), --real-news, or both")
    if baseline_train and not report:
        raise fail("--baseline-train only applies with --report DIR")
    model = common.load_model(model_dir, backend)
    try:
        if report:
            results = _write_report(model, data, report, baseline_train, datasets, model_dir,
                                    cache)
        else:
            results = evaluate_files(model, data) if data else {}
    except DataError as error:
        raise fail(error) from error
    real = real_news_test(model, log=lambda m: err.print(m)) if real_news else {}
    if as_json:
        console.print_json(json.dumps(results | ({"real_news_test": real} if real else {})))
        return
    _print_metrics(results)
    for name, heads in real.items():
        if name in ("all", "articles"):
            _print_metrics({f"real news ({name}) {h}": m for h, m in heads.items()})


def _print_metrics(results: dict) -> None:
    for head, m in results.items():
        table = Table(title=f"{head}: macro-F1 {m['macro_f1']:.3f}, accuracy {m['accuracy']:.3f}, "
                      f"ECE {m['ece']:.3f}, n={m['n']}")
        for column in ("class", "precision", "recall", "F1", "support"):
            table.add_column(column)
        for label, c in m["per_class"].items():
            table.add_row(label, f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}",
                          str(c["support"]))
        console.print(table)
        confusion = Table(title=f"{head}: confusion (rows gold, columns predicted)")
        confusion.add_column("")
        for label in m["labels"]:
            confusion.add_column(label)
        for label, row in zip(m["labels"], m["confusion"], strict=True):
            confusion.add_row(label, *map(str, row))
        console.print(confusion)


def _write_report(
    model, data: list[Path], out: Path, baseline_train: Path | None, datasets: Path | None,
    model_dir: Path | None, cache: bool,
) -> dict:
    """Build the report (training extras: matplotlib, jinja2) and return per-head metrics."""
    from model.settings import core_settings
    from training.proxies import datasets_dir
    from training.report import DEFAULT_BASELINE_TRAIN, build_report

    baseline_train = baseline_train or DEFAULT_BASELINE_TRAIN
    if not baseline_train.is_file():
        raise fail(f"--baseline-train {baseline_train}: file not found")
    cache_dir = core_settings().cache_dir if cache else None
    result = build_report(model, data, out, baseline_train, datasets or datasets_dir(),
                          model_dir=model_dir, cache_dir=cache_dir)
    err.print(f"wrote {out / 'report.html'} and {out / 'metrics.json'} "
              f"in {result['elapsed_s']} s", soft_wrap=True)
    return {head: section["model"] for head, section in result["heads"].items()}
