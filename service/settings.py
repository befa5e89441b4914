"""The service's configuration: every knob is an environment variable prefixed ``PRESSLENS_``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from model.settings import CoreSettings


class Settings(CoreSettings):
    """Read once at start-up; the README's "Service" table documents each field."""

    model_config = SettingsConfigDict(env_prefix="PRESSLENS_", protected_namespaces=())

    host: str = Field("127.0.0.1", description="Interface `presslens serve` binds.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port `presslens serve` binds.")
    max_chars: int = Field(50_000, ge=1, description="Most characters in one article's text.")
    max_documents: int = Field(
        16, ge=1, description="Most documents in one /v1/classify/batch request."
    )
    max_document_sentences: int = Field(
        1_000, ge=1, description="Most sentences in one article (as the answer lists them); "
        "past it: 413 naming the count."
    )
    max_request_sentences: int = Field(
        2_000, ge=1, description="Most sentences in one request, over all its articles (both "
        "versions for /v1/compare); past it: 413 naming the count."
    )
    max_document_tokens: int = Field(
        50_000, ge=1, description="Most tokens the encoder reads for one article: words and "
        "punctuation marks of every sentence, again for each requested target it names; "
        "past it: 413."
    )
    max_request_tokens: int = Field(
        100_000, ge=1, description="Most tokens the encoder reads for one request, over all "
        "its articles (counted as for PRESSLENS_MAX_DOCUMENT_TOKENS); past it: 413."
    )
    max_response_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest answer built: a request whose answer "
        "would be larger (computed before any model work) is refused with 413."
    )
    max_queue: int = Field(
        64, ge=1, description="Most documents waiting for the model; past it: 503 + Retry-After."
    )
    max_queue_sentences: int = Field(
        4_000, ge=1, description="Most sentences waiting for the model (what the queue admits "
        "by); past it: 503 + Retry-After."
    )
    max_batch_documents: int = Field(
        32, ge=1, description="Most documents encoded together in one model call (1: no batching)."
    )
    max_batch_sentences: int = Field(
        512, ge=1, description="Sentence budget of one model call (a larger article is "
        "labelled alone)."
    )
    batch_wait_ms: float = Field(
        100, ge=0, description="Most a batch that is not full waits for more documents "
        "(never over 10 % of the previous model call's time; 0: never waits)."
    )
    retry_after: int = Field(1, ge=1, description="Seconds sent in Retry-After with a 503.")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys accepted in X-API-Key on /v1/classify*; empty: open.",
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for /v1/admin/reload; unset: the route answers 404."
    )
    graceful_shutdown: int = Field(
        8, ge=0, description="Seconds after SIGTERM for the requests in flight (queued or "
        "being labelled) to finish; any still waiting at the end are answered 503, and the "
        "process exits within it. Keep it under the container's stop timeout (Docker: 10 s)."
    )
    log_level: str = Field("info", description="uvicorn and service log level.")

    @model_validator(mode="after")
    def _limits_nest(self) -> Settings:
        """A request that passes its own limits must fit an empty queue, or it would wait
        forever; refuse such a configuration at start-up instead."""
        for small, large in (("max_document_sentences", "max_request_sentences"),
                             ("max_request_sentences", "max_queue_sentences"),
                             ("max_document_tokens", "max_request_tokens")):
            if getattr(self, small) > getattr(self, large):
                raise ValueError(f"PRESSLENS_{small.upper()} ({getattr(self, small)}) must not "
                                 f"exceed PRESSLENS_{large.upper()} ({getattr(self, large)})")
        return self

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("admin_token", mode="before")
    @classmethod
    def _blank_token_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def max_body_bytes(self) -> int:
        """Raw body limit checked before parsing: the most bytes MAX_CHARS characters can take.

        ``\\ud83d\\ude00`` (12 bytes in JSON) is one character, so the bound is 12 bytes per
        character, plus room for targets and JSON punctuation.
        """
        return 12 * self.max_chars + 65_536

    @property
    def max_batch_body_bytes(self) -> int:
        return self.max_documents * self.max_body_bytes
