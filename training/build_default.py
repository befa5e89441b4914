"""Rebuild ``model/default`` from the project's corpus: ``python -m training.build_default``.

Trains on ``training/data/train.csv`` (plus NewsMTSC's train set for stance when
``../shared/datasets`` is present), scores ``training/data/test.csv`` (stories never seen
in training) and the dataset proxies into the card, then exports the serving encoder.
"""

from __future__ import annotations

import sys
from pathlib import Path

from presslens.cli import app
from training.proxies import DATASETS_DIR

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "training" / "data"
OUT = ROOT / "model" / "default"
NEWSMTSC = DATASETS_DIR / "newsmtsc_train.csv"


def command(out: Path = OUT) -> list[str]:
    """The ``presslens train`` arguments that build the default model."""
    args = ["train", "--data", str(DATA / "train.csv")]
    if NEWSMTSC.is_file():
        args += ["--data", str(NEWSMTSC)]
    return [*args, "--eval", str(DATA / "test.csv"), "--model-id", "presslens-default",
            "--out", str(out)]


def main(out: Path = OUT) -> int:
    app(command(out), standalone_mode=False)
    app(["export", "--model", str(out)], standalone_mode=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
