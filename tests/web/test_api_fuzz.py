"""schemathesis against every operation of the OpenAPI document, in-process (WSGI, no network):
whatever it sends, the API answers without a 5xx. Examples are bounded (FUZZ_EXAMPLES each)."""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from diagnostic.api.openapi import document

FUZZ_EXAMPLES = int(os.environ.get("APERTURA_FUZZ_EXAMPLES", "12"))


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    described = {(method.upper(), path) for path, item in document()["paths"].items() for method in item
                 if method in ("get", "post", "put", "patch", "delete")}
    # every operation, none skipped (schemathesis leaves out the document it was loaded from)
    assert {(op.method.upper(), op.path) for op in operations} == described - {("GET", "/openapi.json")}
    return operations


@pytest.mark.slow
def test_no_operation_answers_5xx(app, scored, runner):
    token = runner.invoke(args=["api", "token", "analyst@example.org"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    failures = []
    for operation in _operations(app):

        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def probe(case):
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} "
                                f"{str(case.body)[:200]} -> {response.status_code}")

        probe()
    assert failures == []
