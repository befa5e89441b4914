"""``presslens predict``: label each row of a CSV as one unit, beside its columns."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from presslens.commands import common
from presslens.commands.common import BackendOption, ModelOption, console, fail


def predict(
    data: Annotated[Path, typer.Option("--data", help="CSV with a 'text' column (and 'target').")],
    out: Annotated[Path, typer.Option("--out", help="CSV to write.")],
    model_dir: ModelOption = None,
    backend: BackendOption = None,
) -> None:
    """Label each row of a CSV as one unit (not split); the input's columns are kept as
    they are (gold labels included) and the predictions written beside them (pred_*)."""
    from model.features import Unit
    from model.labels import LABELS
    from model.segment import split

    with data.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    if "text" not in columns:
        raise fail(f"{data}: missing required column 'text' (found {columns})")
    empty = [i + 2 for i, r in enumerate(rows) if not (r["text"] or "").strip()]
    if empty:
        raise fail(f"{data}, column 'text': empty text on lines {empty[:20]}")
    model = common.load_model(model_dir, backend)
    extra = ["pred_boilerplate"]
    for head in model.heads:
        extra += [f"pred_{head}", f"pred_{head}_confidence",
                  *[f"p_{head}_{label}" for label in LABELS[head]]]
    clash = [c for c in extra if c in columns]
    if clash:  # never overwrite a column of the input, gold labels above all
        raise fail(f"{data} already has the prediction column(s) {clash}: rename them, "
                   "or predict from the file without them")
    units = [Unit(r["text"], (r.get("target") or "").strip() or None) for r in rows]
    predictions = model.predict_units(units)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns + extra)
        writer.writeheader()
        for row, prediction in zip(rows, predictions, strict=True):
            segments = split(row["text"])
            row["pred_boilerplate"] = bool(segments) and all(s.boilerplate for s in segments)
            for head, p in prediction.items():
                row[f"pred_{head}"], row[f"pred_{head}_confidence"] = p.label, p.confidence
                row |= {f"p_{head}_{label}": p.scores[label] for label in LABELS[head]}
            writer.writerow(row)
    console.print(f"wrote {len(rows)} rows to {out}")
