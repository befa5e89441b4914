"""Request and response bodies of POST /v1/compare: two versions of a story, what changed.

The response's changes (pairs, removed, added, framing shift) are the model's own
``Changes``, declared once in ``model.compare_results``; only the versions differ, their
sentences carrying the API's offsets.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from model.compare_results import Changes, StanceSummary
from service.schemas import MAX_TARGETS, ArticleText, ModelRef, Sentence, Target


class CompareRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "a": "Two of America's adversaries are solidifying their ties.",
            "b": "Russia and Iran are set to finalize their partnership agreement.",
            "targets": ["Iran", "Russia"],
        }]},
    )

    a: ArticleText = Field(description="The first version (e.g. the original).")
    b: ArticleText = Field(description="The second version (e.g. the rewrite).")
    targets: list[Target] = Field(
        default_factory=list, max_length=MAX_TARGETS,
        description="Stance targets; empty: one overall stance per sentence.",
    )


class CompareVersion(BaseModel):
    """One version as classified; sentence offsets index that version's text."""

    sentences: list[Sentence]
    boilerplate: list[int] = Field(description="Indices of this version's boilerplate.")
    framing: dict[str, float] = Field(description="Share of each framing among content sentences.")
    stance: list[StanceSummary]


class CompareRow(BaseModel):
    """One row of the side-by-side view; null on the side where the sentence is missing."""

    a: int | None = Field(description="Sentence index in A; null: added in B.")
    b: int | None = Field(description="Sentence index in B; null: removed from A.")


class ResponseVersions(BaseModel):
    """The fields the response lists before its ``Changes``."""

    model: ModelRef
    threshold: float = Field(description="Cosine similarity from which sentences pair anywhere.")
    targets: list[str]
    a: CompareVersion
    b: CompareVersion


class CompareResponse(Changes, ResponseVersions):  # fields: ResponseVersions', Changes', rows
    rows: list[CompareRow] = Field(
        description="Side-by-side rows: pairs and removed in A's order, added where they fall."
    )
