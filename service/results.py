"""Turn the model's sentence results into the API's bodies, with the per-document summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from model.card import ModelCard
from model.labels import FRAMING, STANCE
from model.predict import Prediction, SentenceResult
from service.schemas import Label, ModelRef, Sentence, Stance, Summary, TargetStance


def model_ref(card: ModelCard) -> ModelRef:
    return ModelRef(id=card.model_id, version=card.version)


def _label(prediction: Prediction) -> Label:
    return Label(label=prediction.label, confidence=prediction.confidence,
                 scores=prediction.scores)


def _stance(prediction: Prediction) -> Stance:
    return Stance(label=prediction.label, confidence=prediction.confidence,
                  scores=prediction.scores, target=prediction.target)


def sentence(result: SentenceResult) -> Sentence:
    return Sentence(
        index=result.index, start=result.start, end=result.end, text=result.text,
        boilerplate=result.boilerplate,
        framing=_label(result.framing) if result.framing else None,
        stance=[_stance(p) for p in result.stance],
    )


def summarize(results: Sequence[SentenceResult], labels: dict[str, list[str]]) -> Summary:
    """Framing shares among content sentences; stance counts per target, in first-seen order."""
    content = [r for r in results if not r.boilerplate]
    framing_labels = labels.get(FRAMING, [])
    framed = Counter(r.framing.label for r in content if r.framing)
    total = sum(framed.values())
    shares = {label: round(framed[label] / total, 4) if total else 0.0 for label in framing_labels}
    per_target: dict[str | None, Counter[str]] = {}
    for prediction in (p for r in content for p in r.stance):
        per_target.setdefault(prediction.target, Counter())[prediction.label] += 1
    stance_labels = labels.get(STANCE, [])
    return Summary(
        sentences=len(results),
        boilerplate=len(results) - len(content),
        content=len(content),
        framing=shares,
        stance=[
            TargetStance(target=target, counts={label: counts[label] for label in stance_labels})
            for target, counts in per_target.items()
        ],
    )
