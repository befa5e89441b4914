"""Request and response bodies of the HTTP API: what /docs and /openapi.json describe."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StringConstraints
from pydantic_core import PydanticCustomError

from service.openapi import NOT_BLANK
from service.visible import has_visible

TARGET_MAX_CHARS = 200
MAX_TARGETS = 32
ID_MAX_CHARS = 200


def _code_points(text: str) -> str:
    shown = list(dict.fromkeys(text))[:5]
    return ", ".join(f"U+{ord(c):04X}" for c in shown) + (", …" if len(set(text)) > 5 else "")


def _visible(text: str, what: str) -> None:
    """Whitespace-only keeps its own message; otherwise name the invisible characters."""
    if not text.strip():
        raise PydanticCustomError(f"empty_{what}", f"{what} is empty or whitespace only")
    if not has_visible(text):
        raise PydanticCustomError(
            f"invisible_{what}",
            f"{what} has no visible character (only {_code_points(text.strip())}: control, "
            "format or other invisible characters)",
        )


def _article_text(text: str) -> str:
    _visible(text, "text")
    return text


ArticleText = Annotated[
    str,
    AfterValidator(_article_text),
    Field(description="The article; sentence offsets index this string (Unicode code points)."),
]


def _stripped_target(target: str) -> str:
    """Python's whitespace, not pydantic's narrower Unicode trim; a visible character
    (the schema's NOT_BLANK) must remain."""
    target = target.strip()
    _visible(target, "target")
    return target


Target = Annotated[
    str,
    StringConstraints(max_length=TARGET_MAX_CHARS),
    AfterValidator(_stripped_target),
    Field(description="A name whose stance to report where a sentence mentions it.",
          json_schema_extra={"minLength": 1, "pattern": NOT_BLANK}),
]


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Iran and Russia signed a treaty on Friday.",
                                         "targets": ["Iran", "Russia"]}]},
    )

    text: ArticleText
    targets: list[Target] = Field(
        default_factory=list, max_length=MAX_TARGETS,
        description="Stance targets; empty: one overall stance per sentence.",
    )


class BatchDocument(ClassifyRequest):
    id: Annotated[str, StringConstraints(max_length=ID_MAX_CHARS)] | StrictInt | None = Field(
        None, description="Echoed back, to match answers to documents."
    )


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[BatchDocument] = Field(
        min_length=1, description="Answered in this order; at most PRESSLENS_MAX_DOCUMENTS."
    )


class Label(BaseModel):
    label: str
    confidence: float = Field(description="Probability of the chosen label.")
    scores: dict[str, float] = Field(description="Probability of every label of the head.")


class Stance(Label):
    target: str | None = Field(description="The requested target; null: overall stance.")


class Sentence(BaseModel):
    index: int
    start: int = Field(description="Offset of the first character in the request's text.")
    end: int = Field(description="Offset after the last character: text[start:end] == text.")
    text: str
    boilerplate: bool = Field(description="Page furniture (byline, promo, links): not labelled.")
    framing: Label | None
    stance: list[Stance]


class TargetStance(BaseModel):
    target: str | None = Field(description="null: overall stance of sentences naming no target.")
    counts: dict[str, int] = Field(description="Sentences per stance label.")


class Summary(BaseModel):
    sentences: int
    boilerplate: int
    content: int = Field(description="Sentences that are not boilerplate.")
    framing: dict[str, float] = Field(description="Share of each framing among content sentences.")
    stance: list[TargetStance]


class ModelRef(BaseModel):
    id: str
    version: str


class ClassifyResponse(BaseModel):
    model: ModelRef
    sentences: list[Sentence]
    summary: Summary


class DocumentResult(BaseModel):
    id: str | StrictInt | None
    sentences: list[Sentence]
    summary: Summary


class BatchResponse(BaseModel):
    model: ModelRef
    documents: list[DocumentResult]


class FieldError(BaseModel):
    field: str = Field(description="Where the problem is, e.g. body.documents.0.text.")
    message: str
    type: str


class ErrorResponse(BaseModel):
    error: str = Field(description="A stable code, e.g. payload_too_large.")
    detail: str = Field(description="What is wrong, naming the field or limit.")
    errors: list[FieldError] | None = None


class Health(BaseModel):
    status: str


class QueueState(BaseModel):
    documents: int = Field(description="Documents waiting for the model.")
    sentences: int = Field(description="Sentences waiting for the model.")
    busy: bool = Field(description="A batch is being labelled now.")


class Ready(BaseModel):
    status: str
    model: ModelRef
    queue: QueueState
    probe: Literal["passed", "skipped_busy"] = Field(
        description="passed: a probe sentence was labelled just now (the model was idle); "
        "skipped_busy: the model is working, so the probe did not queue behind that work."
    )


class Reloaded(BaseModel):
    previous: ModelRef
    model: ModelRef


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error codes a route can answer."""
    return {code: {"model": ErrorResponse} for code in codes}
