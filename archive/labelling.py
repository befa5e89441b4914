"""Label a batch of accepted rows: one ``label_documents`` call, one row per article out.

Both engines call ``label_rows`` on the batches they form, so a Ray worker and the local
loop turn the same article into the same rows. Each article comes out as its summary row
with its sentence rows nested (``schema.labelled_schema``): an article is then written
whole or not at all.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from archive.schema import labelled_schema
from model.labels import FRAMING, LABELS, STANCE

if TYPE_CHECKING:
    from model.predict import Prediction, Presslens, SentenceResult


def label_rows(model: Presslens, rows: pa.Table, carried: Sequence[str]) -> pa.Table:
    """Labelled articles (``labelled_schema(carried)``) for accepted ``ROW_SCHEMA`` rows."""
    columns = rows.select(["id", "text", "targets", "extra", "source", "line"]).to_pydict()
    documents = model.label_documents(columns["text"], columns["targets"])
    articles = []
    for i, document in enumerate(documents):
        extra = json.loads(columns["extra"][i] or "{}")
        article = {"id": columns["id"][i], **{name: extra.get(name) for name in carried},
                   "source_file": columns["source"][i], "source_line": columns["line"][i]}
        article |= summarise(document.sentences, columns["targets"][i])
        article["sentence_rows"] = sentence_rows(document.sentences)
        articles.append(article)
    return pa.Table.from_pylist(articles, schema=labelled_schema(carried))


def sentence_rows(sentences: Sequence[SentenceResult]) -> list[dict[str, Any]]:
    """One row per sentence, or per sentence and target it names; ``primary`` marks one row
    of each sentence, so counting those counts sentences."""
    rows = []
    for s in sentences:
        base = {"index": s.index, "start": s.start, "end": s.end, "text": s.text,
                "boilerplate": s.boilerplate, **_head(FRAMING, s.framing)}
        for k, stance in enumerate(s.stance or [None]):
            rows.append(base | {"target": stance.target if stance else None,
                                **_head(STANCE, stance), "primary": k == 0})
    return rows


def summarise(sentences: Sequence[SentenceResult], targets: Sequence[str]) -> dict[str, Any]:
    """Sentence counts, framing shares of content sentences, untargeted stance counts, and
    per requested target how many sentences name it and with which stance."""
    content = [s for s in sentences if not s.boilerplate]
    framing = Counter(s.framing.label for s in content if s.framing)
    untargeted = Counter(p.label for s in content for p in s.stance if p.target is None)
    per_target: dict[str, Counter[str]] = {t: Counter() for t in targets}
    for s in content:
        for p in s.stance:
            if p.target in per_target:
                per_target[p.target][p.label] += 1
    return {
        "sentences": len(sentences),
        "content_sentences": len(content),
        **{f"framing_{label}": framing[label] / len(content) if content else None
           for label in LABELS[FRAMING]},
        **{f"stance_{label}": untargeted[label] for label in LABELS[STANCE]},
        "targets": list(targets),
        "target_stance": [{"target": t, "mentions": sum(counts.values()),
                           **{label: counts[label] for label in LABELS[STANCE]}}
                          for t, counts in per_target.items()],
    }


def _head(head: str, prediction: Prediction | None) -> dict[str, Any]:
    return {head: prediction.label if prediction else None,
            f"{head}_confidence": prediction.confidence if prediction else None,
            **{f"p_{head}_{label}": prediction.scores.get(label) if prediction else None
               for label in LABELS[head]}}
