"""Split article text into sentences with character offsets, and flag page furniture.

pysbd does the sentence splitting; this module adds what it gets wrong on news pages:
lines are hard boundaries (headlines carry no full stop), runs of titles such as
"Ret. Lt. Gen." must not end a sentence, bullets are not part of the sentence, and
page furniture (section names, "You might also like" lists, all-capitals promo
headlines, bylines, photo credits) is flagged as boilerplate per LABELS.md.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pysbd

# Titles and abbreviations after which pysbd sometimes ends a sentence even though a
# name follows ("Ret. | Lt. Gen. Keith Kellogg", "Sen. | Warren").
_ABBREVIATIONS = frozenset(
    """adm brig capt cmdr col cpl gen gov lt maj mr mrs ms messrs dr prof rep rev ret sen
    sgt st supt jr sr hon pres amb atty insp det no vs etc jan feb mar apr jun jul aug sep
    sept oct nov dec mt ft u.s u.k u.n e.u d.c""".split()
)
_BULLET = re.compile(r"^\s*(?:[-*•·–—▪►]|\d{1,2}[.)])\s+")
_SECTION_NAMES = frozenset(
    """world us u.s. politics business economy markets opinion sports sport tech technology
    science health entertainment lifestyle culture arts travel media national local news
    video videos weather climate education style food money crime home""".split()
) | {"us news", "world news", "breaking news", "latest news", "top stories"}
_LIST_HEADINGS = re.compile(
    r"^(you (might|may) also like|related( articles| stories| coverage| content)?|read more|"
    r"more from .{1,40}|recommended( for you| stories)?|trending( now)?|most (read|popular)|"
    r"also read|see also|more stories|what to read next|more on this story|"
    r"popular (now|stories))\s*:?\s*$",
    re.IGNORECASE,
)
_FURNITURE = re.compile(
    r"^(by\s+[A-Z][\w.'’-]+(\s+[A-Z][\w.'’-]+){0,3}(\s*(,|and|\|)\s*.*)?|"
    r"(photo|image|picture|video)\s*(credit)?\s*:.*|.*\((photo|image)s?\s+(by|credit|via)\b.*\)|"
    r".*\b(getty images|ap photo|reuters/|afp via getty|shutterstock)\b.{0,60}|"
    r"credit\s*:.*|published\s*:?\s.*\d.*|updated\s*:?\s.*\d.*|"
    r"(share|tweet|email|print|comments?)(\s*(on|this|article|story)\b.*)?|"
    r"(sign up|subscribe|follow us|click here|advertisement|copyright|©|all rights reserved)"
    r".{0,80}|"
    r"(facebook|twitter|x|linkedin|whatsapp|reddit)(\s*[|/]\s*\w+)*)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Segment:
    """One sentence (or furniture line); ``text == article[start:end]``."""

    start: int
    end: int
    text: str
    boilerplate: bool


_local = threading.local()


def _segmenter() -> pysbd.Segmenter:
    """This thread's Segmenter: pysbd keeps the text it is splitting in the Segmenter
    itself, so two threads sharing one get each other's sentences."""
    segmenter = getattr(_local, "segmenter", None)
    if segmenter is None:
        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False,
                                                       char_span=True)
    return segmenter


def _is_all_caps(line: str) -> bool:
    """Promo headlines linking to other stories are set in capitals on many news sites."""
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) >= 0.85


def _is_section_name(line: str) -> bool:
    words = line.strip().rstrip(":").lower()
    return len(words.split()) <= 3 and words in _SECTION_NAMES


def _is_headline_like(line: str) -> bool:
    """A short line without sentence punctuation: how related-story lists print titles."""
    return len(line.split()) <= 16 and not line.rstrip().endswith((".", "?", "!", "”", '"'))


def _line_is_furniture(line: str) -> bool:
    stripped = line.strip()
    return (
        _is_section_name(stripped)
        or _LIST_HEADINGS.match(stripped) is not None
        or _is_all_caps(stripped)
        or _FURNITURE.match(stripped) is not None
    )


def _ends_with_abbreviation(sentence: str) -> bool:
    words = sentence.rstrip().split()
    if not words or not words[-1].endswith("."):
        return False
    return words[-1].rstrip(".").lower().lstrip("(“\"'‘") in _ABBREVIATIONS


# pysbd's time grows with the square of a line's length (2.7 s for one 50,000-character
# line), so a long line is first cut into chunks of about this size, at sentence ends that
# pysbd would cut at anyway: end punctuation, space, a capital, and no abbreviation before.
CHUNK_CHARS = 2_000
_SAFE_CUT = re.compile(r"""[.!?]["”’)]?\s+(?=["“‘(]?[A-Z])""")


def _chunks(line: str) -> list[tuple[int, int]]:
    """(start, end) pieces of a line, each cut at a safe sentence end past CHUNK_CHARS."""
    pieces, start = [], 0
    for cut in _SAFE_CUT.finditer(line):
        long_enough = cut.end() - start >= CHUNK_CHARS
        if long_enough and not _ends_with_abbreviation(line[start : cut.start() + 1]):
            pieces.append((start, cut.end()))
            start = cut.end()
    pieces.append((start, len(line)))
    return pieces


def _sentence_spans(line: str) -> list[tuple[int, int]]:
    """Sentence spans inside one line, with pysbd's title/abbreviation splits undone."""
    spans: list[tuple[int, int]] = []
    for chunk_start, chunk_end in _chunks(line):
        for piece in _segmenter().segment(line[chunk_start:chunk_end]):
            start, end = chunk_start + piece.start, chunk_start + piece.end
            if spans and _ends_with_abbreviation(line[spans[-1][0] : spans[-1][1]]):
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return [_trim(line, s, e) for s, e in spans if line[s:e].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _lines(text: str) -> list[tuple[int, int]]:
    """Non-blank lines as (start, end) offsets, trimmed of surrounding whitespace."""
    spans = []
    for match in re.finditer(r"[^\n\r]+", text):
        start, end = _trim(text, match.start(), match.end())
        if start < end:
            spans.append((start, end))
    return spans


def split(text: str) -> list[Segment]:
    """Split an article into sentences and furniture lines, in reading order.

    Every line is a hard boundary. A "You might also like"-style heading makes the
    bulleted (or short, unpunctuated) lines right under it furniture too.
    """
    segments: list[Segment] = []
    in_related_list = False
    for line_start, line_end in _lines(text):
        line = text[line_start:line_end]
        bullet = _BULLET.match(line)
        body_start = line_start + (bullet.end() if bullet else 0)
        body = text[body_start:line_end]
        if _LIST_HEADINGS.match(line.strip()):
            in_related_list = True
            segments.append(Segment(line_start, line_end, line, True))
            continue
        if in_related_list and (bullet or _is_headline_like(body)):
            segments.append(Segment(body_start, line_end, body, True))
            continue
        in_related_list = False
        if _line_is_furniture(body):
            segments.append(Segment(body_start, line_end, body, True))
            continue
        for start, end in _sentence_spans(body):
            absolute = (body_start + start, body_start + end)
            segments.append(Segment(*absolute, text[absolute[0] : absolute[1]], False))
    return segments
