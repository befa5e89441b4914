"""``presslens serve``'s way of running the app, over a model whose batches containing "slow"
take SLOW seconds: the SIGTERM test runs it in a process of its own (a signal needs one).

Usage: python tests/service/slow_server.py MODEL_DIR PORT SLOW GRACE
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import uvicorn

from model.artifact import read_card
from model.predict import LabelledDocument, SentenceResult
from model.segment import split
from service.app import create_app
from service.settings import Settings


class Slow:
    """Splits like the model and labels nothing (every sentence boilerplate), slowly."""

    def __init__(self, model_dir: Path, seconds: float) -> None:
        self.card = read_card(model_dir)
        self.seconds = seconds

    def label_documents(
        self, texts: Sequence[str], targets: Sequence[Sequence[str]] | None = None
    ) -> list[LabelledDocument]:
        if any("slow" in text for text in texts):
            time.sleep(self.seconds)
        return [LabelledDocument([SentenceResult(i, s.start, s.end, s.text, True)
                                  for i, s in enumerate(split(text))], np.zeros((0, 2)))
                for text in texts]


def main() -> None:
    model_dir, port, slow, grace = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), \
        int(sys.argv[4])
    settings = Settings(port=port, graceful_shutdown=grace, max_batch_documents=1)
    app = create_app(settings, loader=lambda _: Slow(model_dir, slow))  # type: ignore[arg-type,return-value]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info",
                timeout_graceful_shutdown=settings.graceful_shutdown)


if __name__ == "__main__":
    main()
