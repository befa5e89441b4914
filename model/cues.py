"""Lexical cues of framing, taken from the "typical signals" of LABELS.md.

Frozen sentence embeddings mostly encode what a sentence is about; framing is about who
speaks and what the sentence does, which a handful of words decide ("said", "urged",
"must", "according to"). Each cue is one binary feature next to the embedding. They are
written from the annotation guide, not mined from the corpus, so that they carry over to
outlets the corpus never saw: on the dev proxies they raise both the subjectivity and the
attribution AUCs, where a TF-IDF model fitted on the corpus lowers them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

CUES: dict[str, str] = {
    # official_claim: reporting verbs and attribution.
    "reporting_verb": r"\b(?:said|says|say|told|tells|stated|states|claim(?:s|ed)?|den(?:y|ies|ied)"
    r"|warn(?:s|ed)|add(?:s|ed)|thank(?:s|ed)|announc(?:e|es|ed)|insist(?:s|ed)|argu(?:e|es|ed)"
    r"|not(?:es|ed)|explain(?:s|ed)|acknowledg(?:e|es|ed)|confirm(?:s|ed)|promis(?:e|es|ed)"
    r"|pledg(?:e|es|ed)|vow(?:s|ed)|assert(?:s|ed)|wrote|writes|tweeted|posted|accus(?:e|es|ed)"
    r"|describ(?:e|es|ed)|predict(?:s|ed)|estimat(?:e|es|ed))\b",
    "according_to": r"\baccording to\b",
    "quotation": r"[\"“”]",
    "first_person": r"\b(?:[Ww]e|[Oo]ur|us|I|[Mm]y|me)\b",
    "office": r"\b(?:spokes(?:person|man|woman)|minister|ministry|president|officials?|government"
    r"|agency|department|secretary|senator|governor|mayor|chief|director|statement|CEO|company"
    r"|police|prosecutors?|court|commission)\b",
    # neutral_reporting: an outlet as the source of a fact, numbers and dates.
    "news_outlet": r"\b(?:Reuters|Bloomberg|Associated Press|AP|AFP|CNN|BBC|New York Times"
    r"|Washington Post|Wall Street Journal|Financial Times|Guardian|Axios|Politico|Fox News|NBC"
    r"|CBS|ABC|reported|reports|report)\b",
    "number": r"\d",
    # advocacy: calls to action, obligation, loaded characterisation.
    "call_to_action": r"\b(?:urg(?:e|es|ed|ing)|call(?:s|ed|ing)? (?:on|for|upon)"
    r"|demand(?:s|ed|ing)?|encourag(?:e|es|ed|ing)|appeal(?:s|ed|ing)? (?:to|for)"
    r"|press(?:es|ed|ing)? for|push(?:es|ed|ing)? for)\b",
    "obligation": r"\b(?:must|should|ought to|needs? to|have to|has to|it is time|it's time"
    r"|cannot afford)\b",
    "loaded_word": r"\b(?:regime|heroic|hero|reckless|disastrous|shameful|brave|outrageous|failed"
    r"|failure|dangerous|corrupt|adversar(?:y|ies)|disgrace(?:ful)?|appalling|historic"
    r"|unacceptable|betray(?:s|ed|al)?|cruel|naive|absurd)\b",
    "question_or_exclamation": r"[?!]",
}
_CASE_SENSITIVE = {"first_person", "news_outlet"}
_PATTERNS = [re.compile(p, 0 if name in _CASE_SENSITIVE else re.IGNORECASE)
             for name, p in CUES.items()]


def cue_matrix(texts: Sequence[str]) -> np.ndarray:
    """One row per text, one 0/1 column per cue, in the order of ``CUES``."""
    return np.array(
        [[float(p.search(t) is not None) for p in _PATTERNS] for t in texts], dtype=np.float32
    ).reshape(len(texts), len(_PATTERNS))
