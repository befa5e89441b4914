"""The served model behind one reference, so a reload can swap it atomically."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from model.predict import Presslens


class ReloadInProgressError(RuntimeError):
    """A second reload while one is loading: refused rather than queued."""


class ModelHolder:
    """Holds the current model; readers take ``holder.model`` once and keep that reference.

    A reload loads the new model completely (in a thread, off the event loop) before
    replacing the reference, so work already holding the old model finishes on it, and a
    load that fails leaves the old model in place.
    """

    def __init__(self, model: Presslens, loader: Callable[[], Presslens]) -> None:
        self._model = model
        self._loader = loader
        self._reloading = threading.Lock()

    @property
    def model(self) -> Presslens:
        return self._model

    async def reload(self) -> tuple[Presslens, Presslens]:
        """(previous, new) after a successful swap; the loader's exception otherwise."""
        if not self._reloading.acquire(blocking=False):
            raise ReloadInProgressError("a reload is already in progress")
        try:
            new = await asyncio.to_thread(self._loader)
            previous, self._model = self._model, new
            return previous, new
        finally:
            self._reloading.release()
