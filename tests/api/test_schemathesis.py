"""Property-based API testing from our own OpenAPI schema: no server errors, no responses
that contradict the schema, whatever the generated input (types, sizes, unicode, ...)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chiplet_dse.server.config.wsgi import application

pytestmark = pytest.mark.django_db(transaction=True)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _queued_runs_only(settings):
    # Created runs stay queued: the property test explores the API, not the model.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    # Every check but "positive data acceptance": a request can fit the schema and still be
    # refused with a 400 for what a schema cannot express (a run compared with itself, an
    # experiment name that is not built in, a space with no composition).
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
