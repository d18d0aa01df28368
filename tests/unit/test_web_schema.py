"""Schemathesis against the published OpenAPI document, in process (ASGI): every operation,
with valid and with invalid inputs, as a central admin and as a department user. No answer
may be a server error, and answers must match the documented status codes, content types
and schemas.

The operations are driven through Hypothesis directly: schemathesis' own pytest plugin
reaches into pytest internals that pytest 9 no longer has.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from web_estate import Estate, estate_fixture, make_app

USERS = ("central", "surveyor-a")  # everything, and one department's view
EXAMPLES = 25


estate = estate_fixture("schema")


@pytest.fixture(scope="module")
def api_schema(estate: Estate) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json",
                                          make_app(estate.store, estate.root))


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 14
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms(api_schema: Any, estate: Estate, mode: GenerationMode) -> None:
    failures: list[str] = []
    for operation in operations(api_schema):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            for user in USERS:
                case.call_and_validate(headers=estate.headers(user))

        try:
            run()
        except Unsatisfiable:
            # an operation without inputs has no invalid form; its valid one ran above
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # collect every failing operation, not just the first
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
