"""What a request will cost, measured before it is queued: sentences, tokens, answer bytes.

Work is bounded by what it costs, not by how many documents carry it: 50 KB of ``"a\\n"``
is 25,000 sentences, minutes of model time and a response of megabytes. So each article
is split here, once, as the model will split it; its sentences, the tokens the encoder
will read and the size of the answer are counted, and a request over a limit is refused
with 413 naming the limit and the count before it costs any model time. The queue then
admits by these sentence counts (``service.batching``).

Splitting is not free either: pysbd's time grows with the square of the sentences on one
line (``"a. " * 16_000`` takes 53 s). A text whose count of possible sentence ends is over
the limit is therefore split a prefix at a time, and refused as soon as a prefix holds
more sentences than the limit allows.

Measuring runs off the event loop on one thread of its own (``measure_async``), so
requests being measured take one core at most beside the batch worker.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial

from model.compare_results import PairComparison, StanceShift
from model.labels import FRAMING, STANCE
from model.predict import mentioned_targets
from model.segment import Segment, split
from service.errors import ApiError
from service.schemas import (
    BatchResponse,
    DocumentResult,
    Label,
    ModelRef,
    Sentence,
    Stance,
    Summary,
    TargetStance,
)

# Where model.segment.split ends sentences: a run of the end punctuation pysbd knows
# (full-width forms included) with the closing quotes and line break after it, or a line
# break alone (CRLF once).
SENTENCE_ENDS = re.compile(
    r"[.!?\u3002\uff0e\uff01\uff1f]+[\"'”’)\]]*(?:[ \t]*(?:\r\n|[\r\n]))?|\r\n|[\r\n]")
# Words and punctuation marks: how the encoder's pre-tokenizer cuts text before word pieces.
TOKEN = re.compile(r"\w+|[^\w\s]")
SPECIAL_TOKENS = 2  # [CLS] and [SEP] around every encoder input
MARKER_TOKENS = 2  # the "[" and "]" that mark a target's mention for stance
WIDE_FLOAT = 1 / 3  # serialises at a float's widest: sizes computed with it are upper bounds


_measurer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="presslens-measure")


def estimate_sentences(text: str) -> int:
    """The sentence count from the text's possible ends, cheap on the event loop: a little
    over the count for prose. It holds a request's room in the queue while the exact count
    is made, tells ``split_within`` whether the whole text may be split, and costs the
    readiness probe and the warm-up, which are not measured."""
    return 1 + len(SENTENCE_ENDS.findall(text))


@dataclass(frozen=True, slots=True)
class Counted:
    """A text's sentences when within the limit; else how many were found, and in how much
    of the text (``within`` characters: all of it when the count is exact)."""

    count: int
    within: int
    segments: list[Segment] | None


def split_within(text: str, limit: int) -> Counted:
    """The text's sentences when it has at most ``limit``; past it, a count over the limit,
    found by splitting ever longer prefixes, never the whole of a text far over it."""
    ends = [match.end() for match in SENTENCE_ENDS.finditer(text)]
    take = limit + 2
    while take < len(ends):
        prefix = ends[take - 1]
        # The prefix's last sentence may run on past the cut: only the ones before it count.
        whole = len(split(text[:prefix])) - 1
        if whole > limit:
            return Counted(whole, prefix, None)
        take *= 2
    segments = split(text)
    return Counted(len(segments), len(text), segments if len(segments) <= limit else None)


def _tokens(text: str) -> int:
    return len(TOKEN.findall(text))


def encoder_tokens(segments: Sequence[Segment], targets: Sequence[str]) -> int:
    """Tokens the encoder reads: each content sentence once, and once more, marked, for each
    requested target it names (boilerplate is not encoded)."""
    total = 0
    for segment in segments:
        if segment.boilerplate:
            continue
        words = _tokens(segment.text)
        named = len(mentioned_targets(segment.text, targets)) if targets else 0
        total += words + SPECIAL_TOKENS + named * (words + SPECIAL_TOKENS + MARKER_TOKENS)
    return total


def _json_len(value: str | None) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


class AnswerSize:
    """Bytes of a JSON answer, from the split, before labelling: each part is measured on a
    template with the longest label and the widest number, so the result is an upper bound."""

    def __init__(self, labels: dict[str, list[str]]) -> None:
        framing, stance = labels.get(FRAMING, []), labels.get(STANCE, [])
        self._labels = (framing, stance)
        self._framing = _label(framing)
        empty = Sentence(index=0, start=0, end=0, text="", boilerplate=False,
                         framing=self._framing, stance=[])
        # the template's three 0s and its empty "" text are counted again per sentence
        self._content = len(empty.model_dump_json()) - 3 - 2
        furniture = empty.model_copy(update={"boilerplate": True, "framing": None})
        self._boilerplate = len(furniture.model_dump_json()) - 3 - 2
        self._stance = len(Stance(**_label(stance).model_dump(), target=None).model_dump_json())
        self._stance_named = self._stance - len("null")
        self._pair = PairComparison(
            a=0, b=0, similarity=WIDE_FLOAT, by_position=False, framing_a=_longest(framing),
            framing_b=_longest(framing), framing_changed=False, stance=[],
            stance_changed=False, strength=WIDE_FLOAT)
        self._shift = len(StanceShift(target=None, a=_longest(stance), b=_longest(stance),
                                      changed=False).model_dump_json()) - len("null")

    def sentences(self, segments: Sequence[Segment], targets: Sequence[str]) -> int:
        total = 0
        for index, segment in enumerate(segments):
            digits = len(str(index)) + len(str(segment.start)) + len(str(segment.end))
            total += digits + _json_len(segment.text) + 1  # "," between sentences
            if segment.boilerplate:
                total += self._boilerplate
                continue
            named = mentioned_targets(segment.text, targets) if targets else []
            total += self._content + (self._stance + 1 if not named else sum(
                self._stance_named + _json_len(t) + 1 for t in named))
        return total

    def summary(self, sentences: int, targets: Sequence[str]) -> int:
        framing, stance = self._labels
        counts = dict.fromkeys(stance, sentences)
        return len(Summary(
            sentences=sentences, boilerplate=sentences, content=sentences,
            framing=dict.fromkeys(framing, WIDE_FLOAT),
            stance=[TargetStance(target=t, counts=counts) for t in [None, *targets]],
        ).model_dump_json())

    def document(self, segments: Sequence[Segment], targets: Sequence[str]) -> int:
        """One document's sentences and summary, as /v1/classify or one batch entry."""
        return (self.sentences(segments, targets) + self.summary(len(segments), targets)
                + _envelope())

    def comparison(self, segments: Sequence[Segment], targets: Sequence[str]) -> int:
        """One version of /v1/compare: its sentences, and pair entries (listed in ``pairs``
        and again in ``changes``), rows and indices for each of its sentences."""
        per_pair = (len(self._pair.model_dump_json()) + 2 * len(str(len(segments)))
                    + sum(self._shift + _json_len(t) + 1 for t in [None, *targets]))
        return (self.sentences(segments, targets) + self.summary(len(segments), targets)
                + len(segments) * (2 * per_pair + 32) + _envelope())


def _longest(labels: Sequence[str]) -> str:
    return max(labels, key=len, default="")


def _label(labels: Sequence[str]) -> Label:
    return Label(label=_longest(labels), confidence=WIDE_FLOAT,
                 scores=dict.fromkeys(labels, WIDE_FLOAT))


@lru_cache(maxsize=1)
def _envelope() -> int:
    """The keys and brackets around one document's answer (its id at its longest: 200
    characters, each escaped to six bytes)."""
    document = DocumentResult(id="\x00" * 200, sentences=[], summary=Summary(
        sentences=0, boilerplate=0, content=0, framing={}, stance=[]))
    return len(BatchResponse(model=ModelRef(id="", version=""), documents=[document])
               .model_dump_json())


@lru_cache(maxsize=4)
def answer_size(labels: tuple[tuple[str, tuple[str, ...]], ...]) -> AnswerSize:
    """One AnswerSize per label set (models are reloaded; their labels rarely change)."""
    return AnswerSize({head: list(names) for head, names in labels})


@dataclass(frozen=True, slots=True)
class Limits:
    document_sentences: int
    request_sentences: int
    document_tokens: int
    request_tokens: int
    response_bytes: int


@dataclass(frozen=True, slots=True)
class Piece:
    """One text of a request: where it is (``body.text``, ``documents.2.text``, ``a``) and
    the targets it is labelled for."""

    field: str
    text: str
    targets: tuple[str, ...]


def measure(
    pieces: Sequence[Piece], limits: Limits, labels: dict[str, list[str]], model_bytes: int,
    compare: bool = False,
) -> list[int]:
    """Each piece's sentence count, once every limit is known to hold; else 413 naming the
    limit, the count and, for a per-article limit, the field. CPU work: run it in a thread."""
    size = answer_size(tuple((head, tuple(names)) for head, names in labels.items()))
    counts: list[int] = []
    sentences = tokens = answer = 0
    for piece in pieces:
        counted = split_within(piece.text, limits.document_sentences)
        segments, count = counted.segments, counted.count
        if segments is None:
            found = (f"{count} sentences" if counted.within == len(piece.text) else
                     f"more than {limits.document_sentences} sentences ({count} in its first "
                     f"{counted.within} of {len(piece.text)} characters)")
            raise _too_large(f"{piece.field} has {found}; the limit is "
                             f"{limits.document_sentences} per article",
                             "PRESSLENS_MAX_DOCUMENT_SENTENCES")
        sentences += count
        if sentences > limits.request_sentences:
            raise _too_large(f"the request has {'at least ' if piece is not pieces[-1] else ''}"
                             f"{sentences} sentences (counted to {piece.field}); the limit is "
                             f"{limits.request_sentences} per request",
                             "PRESSLENS_MAX_REQUEST_SENTENCES")
        needed = encoder_tokens(segments, piece.targets)
        if needed > limits.document_tokens:
            raise _too_large(f"{piece.field} needs {needed} tokens of encoder input (its words "
                             "and punctuation marks, again for each target a sentence names); "
                             f"the limit is {limits.document_tokens} per article",
                             "PRESSLENS_MAX_DOCUMENT_TOKENS")
        tokens += needed
        if tokens > limits.request_tokens:
            raise _too_large(f"the request needs {'at least ' if piece is not pieces[-1] else ''}"
                             f"{tokens} tokens of encoder input (counted to {piece.field}); "
                             f"the limit is {limits.request_tokens} per request",
                             "PRESSLENS_MAX_REQUEST_TOKENS")
        answer += (size.comparison if compare else size.document)(segments, piece.targets)
        counts.append(count)
    answer += model_bytes
    if answer > limits.response_bytes:
        raise _too_large(f"the answer would be about {answer} bytes; the limit is "
                         f"{limits.response_bytes} bytes", "PRESSLENS_MAX_RESPONSE_BYTES")
    return counts


async def measure_async(
    pieces: Sequence[Piece], limits: Limits, labels: dict[str, list[str]], model_bytes: int,
    compare: bool = False,
) -> list[int]:
    """``measure`` on the measuring thread: off the event loop, never beside another split
    of the same Segmenter, first come first measured."""
    return await asyncio.get_running_loop().run_in_executor(
        _measurer, partial(measure, pieces, limits, labels, model_bytes, compare))


def _too_large(detail: str, setting: str) -> ApiError:
    return ApiError(413, "payload_too_large", f"{detail} ({setting}); send less per request")
