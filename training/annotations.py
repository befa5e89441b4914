"""The project's own labels for real news sentences, joined with their text at run time.

``training/annotations/real_news.csv`` holds, per sentence, the dataset it comes from, the
sha256 of its whitespace-normalised text, the article and publisher (for articles), the
majority framing and stance of three independent annotation passes (a fourth settles
ties) and every pass's label. The text itself is never committed: it is read from
``../shared/datasets``, and when those files are absent the loader says what it skipped.

Every sentence falls in one split, fixed by a hash of its group (its article, or the
sentence itself): ``test`` is held out from all training and choice, ``dev`` serves
selection, ``train`` the rest.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from model.labels import FRAMING, STANCE
from model.segment import split
from training.annotation_keys import normalise, sentence_key
from training.dataset import Row

csv.field_size_limit(100_000_000)

ANNOTATIONS = Path(__file__).resolve().parent / "annotations" / "real_news.csv"
ARTICLES = "polnear_train_articles"
SPLITS = (("test", 0.20), ("dev", 0.15), ("train", 0.65))
FRAMING_CODES = {"R": "neutral_reporting", "O": "official_claim", "A": "advocacy"}
STANCE_CODES = {"S": "supportive", "C": "critical", "N": "neutral"}
LICENCES = {
    "polnear_train_articles": "PolNeAR (Newell et al., LREC 2018)",
    "subjectivity_train": "CLEF CheckThat! 2023 Task 2, CC BY-NC-SA 4.0",
    "babe": "BABE (Spinde et al., EMNLP Findings 2021), AGPL-3.0",
    "newsmtsc_train": "NewsMTSC (Hamborg & Donnay, EACL 2021), MIT licence",
}


@dataclass(frozen=True, slots=True)
class RealSentence:
    dataset: str
    key: str
    text: str
    framing: str
    stance: str
    group: str  # article id, or dataset:key for a standalone sentence
    publisher: str
    split: str


def split_of(group: str) -> str:
    """``test``, ``dev`` or ``train``, fixed by the group's hash."""
    point = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    edge = 0.0
    for name, share in SPLITS:
        edge += share
        if point < edge:
            return name
    return SPLITS[-1][0]


def dataset_texts(datasets: Path, name: str) -> dict[str, str]:
    """key -> text for every sentence of one shared dataset (articles split by presslens)."""
    texts: dict[str, str] = {}
    with (datasets / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if name == ARTICLES:
                for segment in split(row["text"]):
                    texts.setdefault(sentence_key(segment.text), segment.text)
            else:
                texts.setdefault(sentence_key(row["text"]), normalise(row["text"]))
    return texts


def read_keyed(
    path: Path, what: str, log: Callable[[str], None], when_absent: str = "skipped"
) -> list[dict[str, str]]:
    """The rows of a keyed labels file; none (and says so) when there is no such file."""
    if not path.is_file():
        log(f"{what}: {path} not found; {when_absent}")
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def join_keyed(
    rows: list[dict[str, str]], datasets: Path, what: str, log: Callable[[str], None]
) -> Iterator[tuple[dict[str, str], str]]:
    """Each row keyed by ``dataset`` and ``key`` with its sentence's text from
    ``../shared/datasets``, dataset by dataset; says what it skips and why."""
    for name in sorted({r["dataset"] for r in rows}):
        path = datasets / f"{name}.csv"
        mine = [r for r in rows if r["dataset"] == name]
        if not path.is_file():
            log(f"{what}: {path} absent; skipped {len(mine)} labelled sentences")
            continue
        texts = dataset_texts(datasets, name)
        missing = 0
        for row in mine:
            text = texts.get(row["key"])
            if text is None:
                missing += 1
                continue
            yield row, text
        if missing:
            log(f"{what}: {missing} keys of {name} not found in its file; skipped")


def load_real(
    datasets: Path, annotations: Path = ANNOTATIONS, log: Callable[[str], None] = print
) -> list[RealSentence]:
    """Annotated sentences with their text; skips (and says so) what cannot be joined."""
    what = "real-news annotations"
    out: list[RealSentence] = []
    for row, text in join_keyed(read_keyed(annotations, what, log), datasets, what, log):
        group = row["article"] or f"{row['dataset']}:{row['key'][:16]}"
        out.append(RealSentence(row["dataset"], row["key"], text, row["framing"],
                                row["stance"], group, row["publisher"], split_of(group)))
    return out


def real_rows(sentences: list[RealSentence]) -> list[Row]:
    """Annotated real sentences as training rows, grouped by article (or sentence)."""
    return [Row(f"annotations:{s.dataset}", i + 1, s.text, None,
                {FRAMING: s.framing, STANCE: s.stance} if s.framing else {STANCE: s.stance},
                s.group)
            for i, s in enumerate(sentences)]


def of_split(sentences: Iterable[RealSentence], *names: str) -> list[RealSentence]:
    return [s for s in sentences if s.split in names]
