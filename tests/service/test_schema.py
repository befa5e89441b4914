"""schemathesis against /openapi.json: no input gets a 5xx, no answer breaks the schema.

The schema is read from the app's /openapi.json at import (no model needed for that); the
app's lifespan, started by schemathesis on the first case, serves the session's model.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from model.predict import Presslens
from service.app import create_app
from service.settings import Settings

_served: list[Presslens] = []
KEY, TOKEN = "schema-key", "s3cret"
# Small limits keep every generated case fast. Keys and the admin token are configured and
# given to schemathesis as credentials, so it also checks that requests without them get 401.
app = create_app(Settings(max_chars=2_000, max_documents=3, api_keys=KEY, admin_token=TOKEN),
                 loader=lambda _: _served[0])
config = SchemathesisConfig.from_dict({
    "auth": {"openapi": {"APIKeyHeader": {"api_key": KEY}, "HTTPBearer": {"bearer": TOKEN}}},
    # The bar is no 5xx and no answer outside the schema. Negative-data rejection is
    # off: schemathesis calls `?target=false` invalid for an array-of-strings query
    # parameter, but a query string has no booleans, and "false" is a valid target name.
    "checks": {"negative_data_rejection": {"enabled": False},
               # Valid data may still be over a limit no schema can state (sentences, tokens,
               # answer bytes: service.cost): 413, naming it, is a right answer to it.
               "positive_data_acceptance": {"expected-statuses": [
                   "2xx", "3xx", "401", "403", "404", "409", "413", "429", "5xx"]}},
    # Unknown query parameters are ignored, as by FastAPI everywhere; not an error to test for.
    "generation": {"allow-extra-parameters": False},
})
schema = schemathesis.openapi.from_dict(TestClient(app).get("/openapi.json").json(),
                                        config=config)
schema.app = app
schema.location = "/openapi.json"


@pytest.fixture(autouse=True, scope="module")
def _serve_session_model(model: Presslens) -> None:
    _served[:] = [model]


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_schema(case) -> None:
    case.call_and_validate()


def test_the_run_reached_the_model() -> None:
    """The cases above carried valid credentials: the model answered many, the auth few."""
    samples = {(s.labels["route"], s.labels["status"]): s.value
               for metric in app.state.metrics.requests.collect() for s in metric.samples
               if s.name.endswith("_total")}
    assert samples.get(("/v1/classify", "200"), 0) >= 10
    assert samples.get(("/v1/classify/batch", "200"), 0) >= 10
    assert samples.get(("/v1/admin/reload", "200"), 0) >= 1
    assert not [key for key in samples if key[1].startswith("5")]
