"""API keys for the classify routes and the bearer token of the admin routes.

Both are checked before the body is read, so a request without the right credential
costs no parsing and no model time.
"""

from __future__ import annotations

from secrets import compare_digest
from typing import Annotated

from fastapi import Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from service.deps import SettingsDep
from service.errors import ApiError

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False,
    description="Required only when PRESSLENS_API_KEYS is set.",
)
admin_bearer = HTTPBearer(auto_error=False, description="PRESSLENS_ADMIN_TOKEN.")


def _matches(given: str, secrets: list[SecretStr]) -> bool:
    offered = given.encode()
    # Compare against every key, so the time taken does not tell which one nearly matched.
    return sum(compare_digest(offered, s.get_secret_value().encode()) for s in secrets) > 0


def require_api_key(
    settings: SettingsDep, key: Annotated[str | None, Security(api_key_header)]
) -> None:
    if not settings.api_keys:
        return
    if not key:
        raise ApiError(401, "missing_api_key", "send an API key in the X-API-Key header")
    if not _matches(key, settings.api_keys):
        raise ApiError(401, "invalid_api_key", "the X-API-Key header holds an unknown key")


def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(admin_bearer)],
) -> None:
    if settings.admin_token is None:
        raise ApiError(404, "not_found",
                       "admin routes are disabled; set PRESSLENS_ADMIN_TOKEN to enable them")
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiError(401, "missing_token", "send Authorization: Bearer <admin token>", challenge)
    if not _matches(credentials.credentials, [settings.admin_token]):
        raise ApiError(401, "invalid_token", "the bearer token is not the admin token", challenge)
