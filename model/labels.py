"""The label sets of LABELS.md: the one place the rest of the code takes them from."""

from typing import Final

FRAMING: Final = "framing"
STANCE: Final = "stance"
HEADS: Final = (FRAMING, STANCE)

LABELS: Final[dict[str, tuple[str, ...]]] = {
    FRAMING: ("neutral_reporting", "official_claim", "advocacy"),
    STANCE: ("supportive", "critical", "neutral"),
}
