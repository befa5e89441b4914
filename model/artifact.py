"""Saving and loading a model directory, and the trust boundary around it.

A model directory holds ``card.json`` (the manifest), ``card.md`` and, per head, a
``<head>.npz`` of arrays that serving reads (``model.linear_head``) and a ``<head>.skops``
holding the scikit-learn estimator for inspection and re-export. Loading never runs code
from a file this project's training did not write: each file's sha256 must match the card
before it is opened, the arrays are read without pickle, and estimators are read with skops,
which rebuilds only an allow-list of scikit-learn and numpy types instead of unpickling
arbitrary objects. skops (and with it all of scikit-learn) is imported only when an
estimator is asked for, so a serving process never pays for it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from model.card import ModelCard, incompatible_libraries, render_markdown
from model.encoder import file_sha256
from model.heads import Head
from model.lexical import CombinedHead, LexicalHead
from model.linear_head import LinearHead


class _HideTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"{name} is hidden while skops.io is imported")


def import_skops() -> ModuleType:
    """``skops.io``, without importing torch.

    At import, skops lists scikit-learn's estimators by importing every sklearn package; one
    (``sklearn.externals.array_api_compat.torch``) imports torch whenever it is installed,
    which would cost a serving process seconds and hundreds of MB. With torch hidden that
    package fails to import, and the listing skips it (it holds no estimator).
    """
    if "torch" in sys.modules:
        return importlib.import_module("skops.io")
    hide = _HideTorch()
    sys.meta_path.insert(0, hide)
    try:
        return importlib.import_module("skops.io")
    finally:
        sys.meta_path.remove(hide)


CARD_FILE = "card.json"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.")


class ModelLoadError(RuntimeError):
    """A model directory that cannot be trusted or used; the message says why."""


def head_file(head: str) -> str:
    """The scikit-learn estimator's file."""
    return f"{head}.skops"


def arrays_file(head: str) -> str:
    """The serving arrays' file."""
    return f"{head}.npz"


def read_card(model_dir: Path) -> ModelCard:
    path = model_dir / CARD_FILE
    if not path.is_file():
        raise ModelLoadError(f"{model_dir} is not a presslens model: {CARD_FILE} is missing")
    try:
        return ModelCard.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelLoadError(f"{path} is not a valid model card: {error}") from error


def verify_files(model_dir: Path, card: ModelCard) -> None:
    """Refuse any listed file whose bytes differ from what training wrote."""
    for name, expected in card.files.items():
        path = model_dir / name
        if not path.is_file():
            raise ModelLoadError(f"{path} is listed in the model card but missing")
        if file_sha256(path) != expected:
            raise ModelLoadError(
                f"{path} does not match the sha256 in {CARD_FILE}: refusing to load it"
            )


def check_compatible(card: ModelCard) -> None:
    problems = incompatible_libraries(card)
    if problems:
        raise ModelLoadError(
            "model was built with other library versions: " + "; ".join(problems)
            + ". Install the recorded versions or retrain with `presslens train`."
        )


def load_heads(model_dir: Path, card: ModelCard) -> dict[str, Head]:
    """Verified serving heads, keyed by label name: the arrays where the model has them,
    else reduced from its allow-listed estimators. A head with an n-gram model in the card
    comes combined with it."""
    verify_files(model_dir, card)
    if all(arrays_file(head) in card.files for head in card.labels):
        arrays = {head: LinearHead.load(model_dir / arrays_file(head)) for head in card.labels}
    else:
        arrays = {head: LinearHead.from_estimator(estimator)
                  for head, estimator in load_estimators(model_dir, card).items()}
    heads: dict[str, Head] = dict(arrays)
    for head, info in card.lexical.items():
        lexical = LexicalHead.load(model_dir / info["file"])
        heads[head] = CombinedHead(arrays[head], lexical, float(info["weight"]),
                                   float(info["beta"]))
    return heads


def load_estimators(model_dir: Path, card: ModelCard) -> dict[str, Any]:
    """The verified, allow-listed scikit-learn estimators (for inspection and re-export)."""
    verify_files(model_dir, card)
    check_compatible(card)
    sio = import_skops()
    heads = {}
    for head in card.labels:
        path = model_dir / head_file(head)
        untrusted = sio.get_untrusted_types(file=path)
        refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if refused:
            raise ModelLoadError(f"{path} contains types outside the allow-list: {refused}")
        heads[head] = sio.load(path, trusted=untrusted)
    return heads


def lexical_file(head: str) -> str:
    """The n-gram model's arrays (``model.lexical``)."""
    return f"{head}.lexical.npz"


def write_model(
    out: Path, heads: dict[str, Any], card: ModelCard, extra: Path | None = None,
    lexical: dict[str, Any] | None = None,
) -> None:
    """Write a model directory atomically: build it beside ``out``, then swap it in.

    A crash at any point leaves either the old model or the new one, never a mix.
    ``extra`` is a directory whose files (exports) are copied in and listed in the card;
    ``lexical`` maps a head to its fitted n-gram pipeline, written as arrays.
    """
    out = out.resolve()
    check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a model is read by other users too
    try:
        files: dict[str, str] = {}
        for head, estimator in heads.items():
            import_skops().dump(estimator, staging / head_file(head))
            LinearHead.from_estimator(estimator).save(staging / arrays_file(head))
            for name in (head_file(head), arrays_file(head)):
                files[name] = file_sha256(staging / name)
        for head, pipeline in (lexical or {}).items():
            LexicalHead.from_pipeline(pipeline).save(staging / lexical_file(head))
            files[lexical_file(head)] = file_sha256(staging / lexical_file(head))
        if extra is not None:
            for source in sorted(p for p in extra.rglob("*") if p.is_file()):
                relative = source.relative_to(extra).as_posix()
                (staging / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, staging / relative)
                files[relative] = file_sha256(staging / relative)
        card = card.model_copy(update={"files": files})
        (staging / CARD_FILE).write_text(card.model_dump_json(indent=2) + "\n", encoding="utf-8")
        (staging / "card.md").write_text(render_markdown(card), encoding="utf-8")
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class NotAModelError(ValueError):
    """An output directory that holds something other than a presslens model."""


def check_replaceable(out: Path) -> None:
    """Refuse to write over anything but a presslens model or an empty directory.

    Replacing a model removes the old directory, so ``--out .`` or ``--out ~`` must never
    get that far: whatever is not a model (its ``card.json`` parses) is left alone.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise NotAModelError(f"--out {out} is a file, not a model directory; choose a new path")
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return
    try:
        read_card(out)
    except ModelLoadError as error:
        shown = ", ".join(entries[:8]) + (f", … ({len(entries)} entries)" if len(entries) > 8
                                          else "")
        raise NotAModelError(
            f"--out {out} is not empty and is not a presslens model ({error}); it holds: "
            f"{shown}. Nothing was written: choose a new or empty directory, or an existing "
            "model to replace"
        ) from error


def save_model(out: Path, source: Path, heads: dict[str, Head], card: ModelCard) -> None:
    """Write a loaded model to ``out``: its heads' arrays from memory, every other file the
    card lists (encoder, exports, estimators) copied from ``source`` once its sha256 is
    checked; atomically, like ``write_model``."""
    verify_files(source, card)
    written = {arrays_file(head) for head in heads}
    written |= {info["file"] for info in card.lexical.values()}
    with tempfile.TemporaryDirectory(prefix="presslens-save-") as work:
        folder = Path(work)
        for name in card.files:
            if name not in written:
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, folder / name)
        for head, served in heads.items():
            if isinstance(served, CombinedHead):
                served.lexical.save(folder / card.lexical[head]["file"])
                served = served.embedding
            served.save(folder / arrays_file(head))
        write_model(out, {}, card, extra=folder)


def _swap_in(staging: Path, out: Path) -> None:
    """Rename the finished directory into place; the old one is removed only after."""
    previous = None
    if out.exists():
        previous = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(previous)
    try:
        staging.rename(out)
    except BaseException:
        if previous is not None:
            previous.rename(out)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
