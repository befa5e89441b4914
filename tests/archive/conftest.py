"""Small archives built from the corpus, a Ray instance sized like a 2-core machine, and
readers for what ``presslens score`` writes, and the process-tree checks that Ray leaves
nothing running. Tests compare engines and structure, never label values: the shipped model
may be replaced."""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "training" / "data" / "train.csv"
# 0.1 GiB of object store and 2 CPUs: what CI's 2-core runner gives the tests.
TEST_CPUS = 2
TEST_OBJECT_STORE = 100 * 2**20
FURNITURE = "By Jane Okafor\nAdvertisement\n"


def corpus_articles(count: int, seed: int = 0, prefix: str = "a") -> list[dict[str, Any]]:
    """Short articles (3 to 4 consecutive sentences of one corpus story), with the targets
    those sentences name, an outlet and a date; every fifth starts with page furniture."""
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    stories: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        stories.setdefault(row["story"], []).append(row)
    names = sorted(stories)
    rng = random.Random(seed)
    articles = []
    for k in range(count):
        story = stories[names[(k * 7 + seed) % len(names)]]
        size = rng.randint(3, 4)
        start = rng.randrange(len(story) - size)
        chosen = story[start:start + size]
        text = " ".join(r["text"] for r in chosen)
        articles.append({
            "id": f"{prefix}{k:04d}",
            "text": (FURNITURE + text) if k % 5 == 0 else text,
            "targets": sorted({r["target"] for r in chosen if r["target"]}),
            "outlet": ("Ledger", "Wire", "Daily")[k % 3],
            "date": f"2025-0{1 + k % 9}-1{k % 10}",
        })
    return articles


def write_jsonl(path: Path, records: list[dict[str, Any]], extra_lines: list[str] = ()) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        handle.writelines(line + "\n" for line in extra_lines)
    return path


def write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "targets", "outlet", "date"])
        writer.writeheader()
        writer.writerows(r | {"targets": ";".join(r["targets"])} for r in records)
    return path


@pytest.fixture
def make_archive(tmp_path: Path) -> Callable[..., Path]:
    """A folder of JSON Lines and CSV files of corpus articles (no malformed rows)."""

    def make(count: int = 24, name: str = "archive", seed: int = 0) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        articles = corpus_articles(count, seed)
        third = len(articles) // 3
        write_jsonl(folder / "one.jsonl", articles[:third])
        write_jsonl(folder / "two.jsonl", articles[third:2 * third])
        write_csv(folder / "three.csv", articles[2 * third:])
        return folder

    return make


# The malformed rows of ``messy_archive``: (file, line, reason fragment).
MESSY_REJECTS = [
    ("news.jsonl", 5, "missing id"),
    ("news.jsonl", 6, "empty text"),
    ("news.jsonl", 7, "text must be a string"),
    ("news.jsonl", 8, "invalid JSON"),
    ("news.jsonl", 9, "duplicate id (first at news.jsonl:1)"),
    # wire.csv: its second article's text spans three lines (furniture lines first)
    ("wire.csv", 7, "duplicate id (first at news.jsonl:2)"),
    ("wire.csv", 8, "empty text"),
    ("wire.csv", 9, "fields where the header has"),
]


@pytest.fixture
def messy_archive(tmp_path: Path) -> Path:
    """A JSON Lines file and a CSV file, 7 good articles, and one of each malformed row."""
    folder = tmp_path / "messy"
    folder.mkdir()
    good = corpus_articles(7, seed=3, prefix="m")
    write_jsonl(folder / "news.jsonl", good[:4], [
        json.dumps({"text": "An article without an id."}),
        json.dumps({"id": "m-empty", "text": "   "}),
        json.dumps({"id": "m-number", "text": 42}),
        '{"id": "m-broken", "text": "no closing brace"',
        json.dumps({"id": good[0]["id"], "text": "The same id again."}),
    ])
    with (folder / "wire.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "targets", "outlet", "date"])
        for a in good[4:]:
            writer.writerow([a["id"], a["text"], ";".join(a["targets"]), a["outlet"], a["date"]])
        writer.writerow([good[1]["id"], "A duplicate from another file.", "", "Wire", ""])
        writer.writerow(["m-blank", "", "", "Wire", ""])
        writer.writerow(["m-short", "Too few fields."])
    return folder


@pytest.fixture(scope="session")
def local_ray() -> Iterator[None]:
    """One Ray instance for the session, the size of a 2-core machine; shut down after."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=TEST_CPUS, object_store_memory=TEST_OBJECT_STORE,
             include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    try:
        yield
    finally:
        ray.shutdown()


def tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, sentences) as a researcher would read them, in a stable order."""
    summary = pd.read_parquet(out / "articles").sort_values("id").reset_index(drop=True)
    sentences = (pd.read_parquet(out / "sentences")
                 .sort_values(["id", "index", "target"], na_position="first")
                 .reset_index(drop=True))
    return summary, sentences


@pytest.fixture
def read_tables() -> Callable[[Path], tuple[pd.DataFrame, pd.DataFrame]]:
    return tables


@pytest.fixture
def articles() -> Callable[..., list[dict[str, Any]]]:
    return corpus_articles


@pytest.fixture
def messy_rejects() -> list[tuple[str, int, str]]:
    return MESSY_REJECTS


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state, parent pid, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def descendants(roots: Iterable[int]) -> set[int]:
    """Every process below ``roots`` now (not the roots themselves)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(_stat_fields(int(entry))[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found: set[int] = set()
    stack = list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pids: Iterable[int]) -> set[int]:
    """Those of ``pids`` still running (zombies count as gone)."""
    running = set()
    for pid in pids:
        try:
            if _stat_fields(pid)[0] != "Z":
                running.add(pid)
        except (OSError, IndexError):
            continue
    return running


class ProcessTree:
    """What a test needs to check that Ray left nothing running."""

    descendants = staticmethod(descendants)
    alive = staticmethod(alive)


@pytest.fixture
def processes() -> type[ProcessTree]:
    return ProcessTree
