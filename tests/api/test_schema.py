"""Schemathesis over `/api/v1/schema/`: generated requests to every operation, with a valid key, never get a 5xx and
every answer matches the schema (status codes, content types, bodies, headers).

One sandbox serves every operation (its start and the organization's consent cost more than the requests), and
each operation gets a bounded number of examples, so the whole run takes seconds."""

from __future__ import annotations

import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db.models import Sum
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import checks

from api import usage
from api.models import ApiKeyUsage
from tests.api.conftest import api_for

EXAMPLES_PER_OPERATION = 5
# What the API promises (issue 16): no 5xx, and each answer within the schema. Schemathesis' negative/positive data
# checks are left out: a schema-valid body may still be refused with 400 (a base64 string that is no PDF).
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


def test_the_api_answers_every_generated_request_within_its_schema(sandbox, acme, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    headers = {"Authorization": f"Api-Key {api_for(acme, 'schemathesis').key}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14  # every path of api/urls.py but the schema and its two viewers

    for operation in operations:
        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
    usage.flush()
    # The generated requests were the key's (authenticated), not 401s before any view ran.
    assert ApiKeyUsage.objects.aggregate(calls=Sum("calls"))["calls"] >= len(operations) * 2
