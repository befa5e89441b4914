"""presslens's model: sentence splitting, encoder, calibrated heads, save/load, predict.

Imports are lazy so that ``model.segment`` stays cheap for callers that only split text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model.predict import DEFAULT_MODEL_DIR, Prediction, Presslens, SentenceResult

__all__ = ["DEFAULT_MODEL_DIR", "Prediction", "Presslens", "SentenceResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from model import predict

        return getattr(predict, name)
    raise AttributeError(name)
