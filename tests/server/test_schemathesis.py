"""Property-based requests generated from the server's OpenAPI description: never a 5xx.

schemathesis's lazy pytest fixture loader does not work with this pytest version, so the
operations are driven through its Python API: one hypothesis run per operation.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402


def test_no_server_errors(server, keys):
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {keys['alice']['api_key']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8  # six endpoints, the upload PUT and /health
    seen: dict[str, set[int]] = {}

    def make_check(operation):
        label = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case) -> None:
            response = case.call(base_url=server.url, headers=headers, timeout=30)
            case.validate_response(response, checks=[not_a_server_error])
            assert response.status_code < 500, (label, response.text)
            seen.setdefault(label, set()).add(response.status_code)
            if response.status_code >= 400:  # every error answer uses the envelope
                body = response.json()
                assert body["status"] == "error" and body["error"]["code"], body

        return check

    for operation in operations:
        make_check(operation)()
    assert len(seen) == len(operations)
