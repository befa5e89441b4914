"""Merge independent annotation passes into majority labels, and measure agreement.

Each pass file is ``ID<TAB>FRAMING<TAB>STANCE`` with one-letter codes (framing R/O/A, or
X for a line that is not article prose; stance S/C/N), written by an annotator who saw
only ``LABELS.md`` and the batch. The label is the majority of the first three passes;
where all three differ, the tie-break pass (``*_tb.tsv``, an annotator who read the
guide's hard-case rules on just those sentences) decides.

``python -m training.annotation_passes WORK_DIR`` writes
``training/annotations/real_news.csv`` (keys and labels, never text) and prints the
agreement report; ``--ties`` writes the tie-break batch instead.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np

from training.annotations import ANNOTATIONS, FRAMING_CODES, STANCE_CODES

PASSES = ("p1", "p2", "p3")
TIEBREAK = "tb"
FRAMING_CHOICES = (*FRAMING_CODES, "X")
STANCE_CHOICES = tuple(STANCE_CODES)
FIELDS = ["dataset", "key", "article", "publisher", "framing", "stance",
          "framing_passes", "stance_passes", "decided_by"]


def read_pass(path: Path) -> dict[str, tuple[str, str]]:
    """id -> (framing code, stance code); a malformed line is an error naming it."""
    labels: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip().upper() for p in line.split("\t")]
        if len(parts) != 3 or parts[1] not in FRAMING_CHOICES or parts[2] not in STANCE_CHOICES:
            raise ValueError(f"{path}:{number}: expected ID<TAB>R|O|A|X<TAB>S|C|N, got {line!r}")
        labels[parts[0].lower()] = (parts[1], parts[2])
    return labels


def majority(codes: list[str]) -> str | None:
    """The code at least two of three passes gave, else None (a tie)."""
    code, count = Counter(codes).most_common(1)[0]
    return code if count >= 2 else None


def fleiss_kappa(ratings: np.ndarray) -> tuple[float, dict[int, float]]:
    """Overall and per-category Fleiss' kappa from an (items, categories) count matrix."""
    n = ratings.sum(axis=1)[0]
    p_j = ratings.sum(axis=0) / ratings.sum()
    p_i = (np.square(ratings).sum(axis=1) - n) / (n * (n - 1))
    p_e = float(np.square(p_j).sum())
    if p_e >= 1.0:  # one category only: every pass agrees, chance agreement is total
        return 1.0, {}
    overall = (float(p_i.mean()) - p_e) / (1 - p_e)
    per = {}
    for j in range(ratings.shape[1]):
        if 0 < p_j[j] < 1:
            observed = 1 - (ratings[:, j] * (n - ratings[:, j])).sum() / (
                len(ratings) * n * (n - 1) * p_j[j] * (1 - p_j[j]))
            per[j] = float(observed)
    return overall, per


def agreement(passes: list[list[str]], choices: tuple[str, ...]) -> dict[str, object]:
    """Pairwise percent agreement and Fleiss' kappa, overall and per label."""
    items = list(zip(*passes, strict=True))
    counts = np.array([[item.count(c) for c in choices] for item in items])
    overall, per = fleiss_kappa(counts)
    pairwise = {f"{a}-{b}": round(float(np.mean([x == y for x, y in zip(
        passes[a], passes[b], strict=True)])), 4) for a, b in combinations(range(len(passes)), 2)}
    per_label = {}
    for j, code in enumerate(choices):
        if j in per:
            k = counts[:, j]
            # specific agreement: of the times a pass gave this label, the share of the
            # other passes that gave it too
            specific = float((k * (k - 1)).sum() / max((k * (len(passes) - 1)).sum(), 1))
            per_label[code] = {"fleiss_kappa": round(per[j], 4), "times_given": int(k.sum()),
                               "specific_agreement": round(specific, 4)}
    return {"fleiss_kappa": round(overall, 4), "pairwise_agreement": pairwise,
            "all_three_agree": round(float(np.mean([len(set(i)) == 1 for i in items])), 4),
            "per_label": per_label}


def merge(work: Path) -> tuple[list[dict[str, str]], dict[str, object], list[str]]:
    """Rows for the annotations CSV, the agreement report and the ids still tied."""
    with (work / "batches" / "index.csv").open(encoding="utf-8", newline="") as handle:
        index = list(csv.DictReader(handle))
    passes = {p: {} for p in (*PASSES, TIEBREAK)}
    for p in passes:
        for path in sorted((work / "passes").glob(f"*_{p}.tsv")):
            passes[p].update(read_pass(path))
    rows, ties = [], []
    framing_passes: list[list[str]] = [[] for _ in PASSES]
    stance_passes: list[list[str]] = [[] for _ in PASSES]
    for item in index:
        labels = [passes[p].get(item["id"]) for p in PASSES]
        if any(label is None for label in labels):
            continue
        framing = [f for f, _ in labels]
        stance = [s for _, s in labels]
        for i in range(len(PASSES)):
            framing_passes[i].append(framing[i])
            stance_passes[i].append(stance[i])
        decided, breaker = "majority", passes[TIEBREAK].get(item["id"])
        f, s = majority(framing), majority(stance)
        if (f is None or s is None) and breaker is None:
            ties.append(item["id"])
            continue
        if f is None or s is None:
            decided = "tiebreak"
            f = f or breaker[0]
            s = s or breaker[1]
        rows.append({
            "dataset": item["dataset"], "key": item["key"], "article": item["article"],
            "publisher": item["publisher"], "framing": FRAMING_CODES.get(f, ""),
            "stance": STANCE_CODES[s], "framing_passes": "".join(framing),
            "stance_passes": "".join(stance), "decided_by": decided,
        })
    report = {
        "sentences_with_three_passes": len(framing_passes[0]),
        "framing": agreement(framing_passes, FRAMING_CHOICES),
        "stance": agreement(stance_passes, STANCE_CHOICES),
        "labels": {"framing": Counter(r["framing"] or "not_prose" for r in rows),
                   "stance": Counter(r["stance"] for r in rows)},
        "decided_by": Counter(r["decided_by"] for r in rows),
        "by_dataset": Counter(r["dataset"] for r in rows if r["framing"]),
    }
    return rows, report, ties


def write_ties(work: Path, ties: list[str]) -> Path:
    """The tie-break batch: the tied sentences with their batch context lines."""
    wanted = set(ties)
    lines = []
    for path in sorted((work / "batches").glob("b*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.split("\t")[0] in wanted:
                lines.append(line)
    out = work / "batches" / "ties.txt"
    out.write_text("## STANDALONE SENTENCES (each judged on its own)\n" + "\n".join(lines) + "\n",
                   encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    work = Path(argv[0])
    rows, report, ties = merge(work)
    if "--ties" in argv:
        print(f"{len(ties)} tied sentences -> {write_ties(work, ties)}")
        return 0
    ANNOTATIONS.parent.mkdir(parents=True, exist_ok=True)
    with ANNOTATIONS.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: (r["dataset"], r["key"])))
    report["still_tied"] = len(ties)
    (ANNOTATIONS.parent / "agreement.json").write_text(
        json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
