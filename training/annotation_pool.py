"""Draw the real-news sentences to annotate, and write them as batches for annotators.

The pool is fixed by a seed so that it can be rebuilt: whole articles from
``polnear_train_articles.csv`` (split by presslens's own segmenter, all seven
publishers), all of ``subjectivity_train.csv``, and samples of ``babe.csv`` and
``newsmtsc_train.csv``. Dev files are never drawn. Batches carry text and so live
outside the repository; only ids and labels are ever committed.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from model.segment import split
from training.annotation_keys import sentence_key

csv.field_size_limit(100_000_000)

ARTICLES = "polnear_train_articles"
SOURCES_SAMPLED = {"babe": 2_150, "newsmtsc_train": 1_650}
SENTENCES_PER_PUBLISHER = 530
MAX_SENTENCES_PER_ARTICLE = 45
MIN_WORDS = 4


@dataclass(frozen=True, slots=True)
class PoolItem:
    dataset: str
    key: str
    text: str
    article: str = ""
    publisher: str = ""
    headline: str = ""


def _read(datasets: Path, name: str) -> list[dict[str, str]]:
    with (datasets / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _article_items(datasets: Path, rng: random.Random) -> list[PoolItem]:
    by_publisher: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _read(datasets, ARTICLES):
        by_publisher[row["publisher"]].append(row)
    items: list[PoolItem] = []
    for publisher in sorted(by_publisher):
        articles = by_publisher[publisher]
        rng.shuffle(articles)
        taken = 0
        for article in articles:
            if taken >= SENTENCES_PER_PUBLISHER:
                break
            segments = [s for s in split(article["text"]) if not s.boilerplate]
            segments = [s for s in segments if len(s.text.split()) >= MIN_WORDS]
            for segment in segments[:MAX_SENTENCES_PER_ARTICLE]:
                items.append(
                    PoolItem(ARTICLES, sentence_key(segment.text), segment.text,
                             article["article"], publisher, article["title"])
                )
                taken += 1
    return items


def _sentence_items(datasets: Path, name: str, count: int | None,
                    rng: random.Random) -> list[PoolItem]:
    seen: dict[str, str] = {}
    for row in _read(datasets, name):
        text = " ".join(row["text"].split())
        if len(text.split()) >= MIN_WORDS:
            seen.setdefault(sentence_key(text), text)
    keys = sorted(seen)
    rng.shuffle(keys)
    keys = keys if count is None else keys[:count]
    return [PoolItem(name, k, seen[k]) for k in keys]


def build_pool(datasets: Path, seed: int = 16) -> list[PoolItem]:
    """Every sentence to annotate, distinct by key across all sources."""
    rng = random.Random(seed)
    items = _article_items(datasets, rng)
    items += _sentence_items(datasets, "subjectivity_train", None, rng)
    for name, count in SOURCES_SAMPLED.items():
        items += _sentence_items(datasets, name, count, rng)
    unique: dict[str, PoolItem] = {}
    for item in items:
        unique.setdefault(item.key, item)
    return list(unique.values())


def write_batches(pool: list[PoolItem], out: Path, n_batches: int, seed: int = 16) -> None:
    """Deal articles whole and standalone sentences one by one into ``n_batches`` files.

    Each batch file groups an article's sentences under its headline, in reading order,
    so the annotator sees the sentence before; ``index.csv`` maps line ids to keys.
    """
    rng = random.Random(seed)
    articles: dict[str, list[PoolItem]] = defaultdict(list)
    singles: list[PoolItem] = []
    for item in pool:
        (articles[item.article] if item.article else singles).append(item)
    groups = [articles[a] for a in sorted(articles)]
    rng.shuffle(groups)
    rng.shuffle(singles)
    batches: list[list[list[PoolItem]]] = [[] for _ in range(n_batches)]
    sizes = [0] * n_batches
    for group in groups:
        i = sizes.index(min(sizes))
        batches[i].append(group)
        sizes[i] += len(group)
    for item in singles:
        i = sizes.index(min(sizes))
        batches[i].append([item])
        sizes[i] += 1
    out.mkdir(parents=True, exist_ok=True)
    with (out / "index.csv").open("w", encoding="utf-8", newline="") as index:
        writer = csv.writer(index)
        writer.writerow(["batch", "id", "dataset", "key", "article", "publisher"])
        for b, batch in enumerate(batches, 1):
            _write_batch(out / f"b{b:02d}.txt", b, batch, writer)


def _write_batch(path: Path, b: int, batch: list[list[PoolItem]], index: csv.writer) -> None:
    lines, n = [], 0
    standalone = [g[0] for g in batch if not g[0].article]
    for group in (g for g in batch if g[0].article):
        lines.append(f"\n## ARTICLE — headline: {group[0].headline}")
        for item in group:
            n += 1
            lines.append(f"{b:02d}-{n:04d}\t{item.text}")
            index.writerow([b, f"{b:02d}-{n:04d}", item.dataset, item.key, item.article,
                            item.publisher])
    lines.append("\n## STANDALONE SENTENCES (no headline or context; each stands alone)")
    for item in standalone:
        n += 1
        lines.append(f"{b:02d}-{n:04d}\t{item.text}")
        index.writerow([b, f"{b:02d}-{n:04d}", item.dataset, item.key, "", ""])
    path.write_text("\n".join(lines).lstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":
    import sys

    pool = build_pool(Path(sys.argv[1]))
    write_batches(pool, Path(sys.argv[2]), int(sys.argv[3]))
    print(len(pool), "sentences")
