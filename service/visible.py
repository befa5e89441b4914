"""Which characters show: a text or target made only of invisible ones is refused.

Invisible here is what renders as nothing: whitespace, control characters (NUL included),
format characters (zero-width space and joiners, direction marks, the byte-order mark),
Unicode's other default-ignorable code points (variation selectors, Hangul fillers, tag
characters) and the blank braille pattern. A text of only these gives the encoder nothing
to read, yet the model would still label it with high confidence.

The ranges are written out (not computed from ``unicodedata`` at import, which takes a
second); ``tests/service/test_input_rules.py`` checks them against the running Python's
Unicode tables. The same ranges make the OpenAPI ``pattern`` (``VISIBLE_PATTERN``), so
what the schema promises and what the validator accepts are one rule.
"""

from __future__ import annotations

import re

INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020), (0x007F, 0x00A0), (0x00AD, 0x00AD), (0x034F, 0x034F),
    (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x1680, 0x1680),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2000, 0x200F), (0x2028, 0x202F),
    (0x205F, 0x206F), (0x2800, 0x2800), (0x3000, 0x3000), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)


def _escape(code: int) -> str:
    # BMP as \uXXXX (read alike by Python's re and ECMA-262); beyond it, the character
    # itself, which Python's re (schemathesis, hypothesis) reads as one code point.
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


VISIBLE_PATTERN = "[^" + "".join(
    _escape(low) if low == high else f"{_escape(low)}-{_escape(high)}"
    for low, high in INVISIBLE_RANGES
) + "]"
"""A regular expression matching one visible character: a text must contain one."""

_VISIBLE = re.compile(VISIBLE_PATTERN)


def has_visible(text: str) -> bool:
    return _VISIBLE.search(text) is not None
