"""Schemathesis against the running service's ``/openapi.json``: no generated request gets a 5xx, and
every response has a documented status, content type and shape.

Bounded: ``EXAMPLES`` generated requests per operation, with an admin key (so requests reach the
handlers instead of stopping at 401), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from tests.web.conftest import BOTH_DBS, Service

EXAMPLES = int(os.environ.get("ALIGNLAB_SCHEMATHESIS_EXAMPLES", "25"))  # raise it for a longer hunt
# Not ``positive_data_acceptance``: the schema cannot say "no NUL, no lone surrogate" about free-form
# content and forwarded fields, and the service rejects those on purpose (400, see monitor/text.py).
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@BOTH_DBS
def test_no_generated_request_gets_a_server_error(service: Service) -> None:
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    headers = {"Authorization": f"Bearer {service.admin}"}
    errors: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: Any) -> None:
            nonlocal calls
            response = case.call(headers=headers, timeout=30)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                errors.append(f"{case.method} {case.formatted_path}: {str(exc)[:300]}")
            calls += 1
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:200]}")

        call()
    assert calls >= EXAMPLES * 3
    print(f"schemathesis: {calls} requests over {len(operations)} operations, {len(errors)} failures")
    assert errors == [], "\n".join(errors[:10])
