"""Fuzzing the HTTP API against its own OpenAPI description (schemathesis): whatever the
generated requests, the server answers with a documented status and body, and never a 5xx.

One runtime and server for the module, on 127.0.0.1; a bounded number of examples per
operation keeps the run short.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")

from http_workflows import build  # noqa: E402
from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

import wfkit as wf  # noqa: E402
from wfkit import _openapi  # noqa: E402

EXAMPLES = 12
#: A status poll may wait on an instance (one waiting for an event waits the whole time):
#: the fuzzed server allows short waits only, so that no request outlasts the client.
MAX_WAIT = 0.5


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    runtime = wf.WorkflowRuntime(
        clock=wf.VirtualClock(datetime(2025, 1, 1), flow=False), store="memory"
    )
    build(runtime)
    runtime.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_openapi, "MAX_WAIT_SECONDS", MAX_WAIT)
        server = runtime.serve_http(poll_wait=0.05)
        try:
            yield server
        finally:
            server.shutdown()
            runtime.shutdown()


def _description() -> dict[str, Any]:
    """The description the server serves (it depends only on the registered workflows)."""
    runtime = wf.WorkflowRuntime(store="memory")
    build(runtime)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_openapi, "MAX_WAIT_SECONDS", MAX_WAIT)
        return _openapi.build(workflows=runtime.workflows, token=False, version=wf.__version__)


schema = schemathesis.openapi.from_dict(_description())
# valid requests and invalid ones (wrong types, missing parameters, bad bodies) alike
schema.config.generation.update(modes=list(schemathesis.GenerationMode))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case: Any, served: Any) -> None:
    response = case.call(base_url=served.url, timeout=10)
    assert response.status_code < 500, (response.status_code, response.text)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_the_description_is_valid_openapi(served: Any) -> None:
    loaded = schemathesis.openapi.from_dict(served.openapi())
    operations = [op.ok() for op in loaded.get_all_operations()]
    labels = {op.label for op in operations}
    assert "POST /v1.0/workflows/dapr/{workflowName}/start" in labels
    assert "GET /v1.0-beta1/workflows/dapr/{instanceID}" in labels
    assert len(labels) == len(operations) >= 19
