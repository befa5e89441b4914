"""The Arrow schemas of what ``presslens score`` reads and writes; docs/scale.md lists them.

Column names come from the label sets in ``model.labels``, so the tables follow the model's
labels without a second list to keep in step.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from model.labels import FRAMING, LABELS, STANCE

# One input row as ``sources`` hands it on: where it came from, the three columns presslens
# reads, the carried columns as one JSON object of strings, and why it is refused (or null).
ROW_SCHEMA = pa.schema([
    ("source", pa.string()),
    ("line", pa.int64()),
    ("id", pa.string()),
    ("text", pa.string()),
    ("targets", pa.list_(pa.string())),
    ("extra", pa.string()),
    ("problem", pa.string()),
    ("raw", pa.string()),
])

PROBABILITY = pa.float32()


def _head_fields(head: str) -> list[pa.Field]:
    return [pa.field(head, pa.string()), pa.field(f"{head}_confidence", PROBABILITY),
            *[pa.field(f"p_{head}_{label}", PROBABILITY) for label in LABELS[head]]]


# One sentence table row, less the article id: a sentence, or a sentence and one target.
SENTENCE_FIELDS: list[pa.Field] = [
    pa.field("index", pa.int32()),
    pa.field("start", pa.int32()),
    pa.field("end", pa.int32()),
    pa.field("text", pa.string()),
    pa.field("boilerplate", pa.bool_()),
    *_head_fields(FRAMING),
    pa.field("target", pa.string()),
    *_head_fields(STANCE),
    pa.field("primary", pa.bool_()),
]
SENTENCE_SCHEMA = pa.schema([pa.field("id", pa.string()), *SENTENCE_FIELDS])

TARGET_STANCE = pa.struct([
    pa.field("target", pa.string()),
    pa.field("mentions", pa.int32()),
    *[pa.field(label, pa.int32()) for label in LABELS[STANCE]],
])
# The per-article summary, after the id and the carried columns.
SUMMARY_FIELDS: list[pa.Field] = [
    pa.field("source_file", pa.string()),
    pa.field("source_line", pa.int64()),
    pa.field("sentences", pa.int32()),
    pa.field("content_sentences", pa.int32()),
    *[pa.field(f"framing_{label}", PROBABILITY) for label in LABELS[FRAMING]],
    *[pa.field(f"stance_{label}", pa.int32()) for label in LABELS[STANCE]],
    pa.field("targets", pa.list_(pa.string())),
    pa.field("target_stance", pa.list_(TARGET_STANCE)),
]
# Names a carried input column may not take: the summary's own, and what presslens reads.
RESERVED = frozenset({"id", "text", "sentence_rows", *(f.name for f in SUMMARY_FIELDS)})


def summary_schema(carried: Sequence[str]) -> pa.Schema:
    """The summary table: id, the carried columns (strings, as in the input), the counts."""
    return pa.schema([pa.field("id", pa.string()),
                      *[pa.field(name, pa.string()) for name in carried], *SUMMARY_FIELDS])


def labelled_schema(carried: Sequence[str]) -> pa.Schema:
    """What labelling hands to writing: a summary row with its sentence rows nested, so one
    article travels, and is written, as one row."""
    return summary_schema(carried).append(
        pa.field("sentence_rows", pa.list_(pa.struct(SENTENCE_FIELDS))))
