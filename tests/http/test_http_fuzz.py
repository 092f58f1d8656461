"""Fuzzing the HTTP API against its own OpenAPI description (schemathesis): whatever the
generated requests, the server answers with a documented status and body, and never a 5xx.

One runtime and server for the module, on 127.0.0.1; a bounded number of examples per
operation keeps the run short.
"""

from __future__ import annotations

import contextlib
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
from wfkit.http import _openapi as _openapi  # noqa: E402

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


# ------------------------------------------------------------------ web pages: cross-site and rebinding
import socket  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from wfkit.http._server import SOCKET_TIMEOUT  # noqa: E402

CROSS_SITE_EXAMPLES = 400
#: Requests sent by the test below, and the answers with a 5xx status.
TALLY = {"requests": 0, "server errors": 0, "refused as cross-site": 0}

OPERATIONS = [
    ("POST", "/v1.0/workflows/dapr/echo/start?instanceID=fresh"),
    ("POST", "/v1.0/workflows/dapr/waiter/start"),
    ("POST", "/v1.0/workflows/dapr/w1/raiseEvent/go"),
    ("POST", "/v1.0/workflows/dapr/w1/terminate"),
    ("POST", "/v1.0/workflows/dapr/w1/pause"),
    ("POST", "/v1.0/workflows/dapr/s1/resume"),
    ("POST", "/v1.0/workflows/dapr/e1/purge"),
    ("POST", "/wfkit/v1/instances/e1/rerun"),
    ("GET", "/v1.0/workflows/dapr/w1"),
    ("GET", "/wfkit/v1/instances"),
    ("GET", "/wfkit/v1/instances/e1/history"),
    ("OPTIONS", "/v1.0/workflows/dapr/echo/start"),
]
HEADER_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)


@pytest.fixture(scope="module")
def quiet_server() -> Iterator[Any]:
    """A server whose runtime changes only when a request changes it (no polls wait)."""
    runtime = wf.WorkflowRuntime(
        clock=wf.VirtualClock(datetime(2025, 1, 1), flow=False), store="memory"
    )
    build(runtime)
    runtime.start()
    server = runtime.serve_http(poll_wait=0)
    try:
        yield server
    finally:
        server.shutdown()
        runtime.shutdown()


def _reset(runtime: wf.WorkflowRuntime) -> None:
    """Instances for every operation to act on: w1 waiting, s1 suspended, e1 completed."""
    client = wf.DaprWorkflowClient(runtime)
    for instance_id in runtime.instances()["instance_id"]:
        with contextlib.suppress(Exception):
            client.terminate_workflow(instance_id)
        client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
        client.purge_workflow(instance_id)
    client.schedule_new_workflow("waiter", instance_id="w1")
    client.schedule_new_workflow("waiter", instance_id="s1")
    client.schedule_new_workflow("echo", input=1, instance_id="e1")
    client.wait_for_workflow_completion("e1", timeout_in_seconds=10)
    client.pause_workflow("s1")


def _state(runtime: wf.WorkflowRuntime) -> Any:
    store = runtime.store
    return (
        runtime.clock.now(),
        [(r, len(store.history(r.instance_id))) for r in store.records()],
    )


def _send(server: Any, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    head = f"{method} {path} HTTP/1.1\r\n"
    for name, value in headers.items():
        head += f"{name}: {value}\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((server.host, server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(head.encode("latin-1") + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@settings(
    max_examples=CROSS_SITE_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(
    operation=st.sampled_from(OPERATIONS),
    host=st.sampled_from(
        [
            # this server's own names, more often than the others
            *["127.0.0.1:{port}"] * 6,
            *["localhost:{port}"] * 3,
            None,
            "127.0.0.1:{port}",
            "localhost:{port}",
            "[::1]:{port}",
            "evil.example",
            "evil.example:{port}",
            "127.0.0.1:{other}",
            "localhost.evil.example:{port}",
            "127.0.0.1",
            "",
        ]
    ),
    origin=st.one_of(
        st.sampled_from(
            [None] * 6
            + ["same"] * 3
            + ["http://evil.example", "null", "http://localhost:8888", "https://same"]
        ),
        st.sampled_from([None]),
        st.sampled_from([None]),
        HEADER_TEXT,
    ),
    site=st.one_of(
        st.sampled_from([None] * 6 + ["same-origin"] * 2 + ["none", "same-site", "cross-site"]),
        st.sampled_from([None]),
        HEADER_TEXT,
    ),
    content_type=st.sampled_from(
        [
            None,
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ]
    ),
    body=st.sampled_from([b"", b"1", b'{"eventId": 1}', b"not json"]),
)
def _one_request(
    quiet_server: Any,
    operation: tuple[str, str],
    host: str | None,
    origin: str | None,
    site: str | None,
    content_type: str | None,
    body: bytes,
) -> None:
    runtime = quiet_server.runtime
    port = quiet_server.port
    if host is not None:
        host = host.format(port=port, other=port + 1)
    headers: dict[str, str] = {}
    if host is not None:
        headers["Host"] = host
    if origin == "same" or origin == "https://same":
        origin = origin.replace("same", host or "127.0.0.1")
    if origin is not None:
        headers["Origin"] = origin
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    if content_type is not None:
        headers["Content-Type"] = content_type
    own = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    cross = (
        (host is not None and host.lower() not in own)
        or (origin is not None and (host is None or origin.lower() != f"http://{host}".lower()))
        or (site is not None and site.lower() not in ("same-origin", "none"))
    )
    method, path = operation
    browser = origin is not None or site is not None
    not_json = (content_type or "").split(";")[0].strip().lower() != "application/json"
    unsupported = browser and bool(body) and method == "POST" and not_json

    if runtime.instances().shape[0] != 3:  # a purge or a start changed the set
        _reset(runtime)
    before = _state(runtime)
    status = _send(quiet_server, method, path, headers, body)
    TALLY["requests"] += 1
    TALLY["server errors"] += status >= 500
    assert status < 500
    if cross:
        TALLY["refused as cross-site"] += 1
        assert status == 403, (headers, status)
        assert _state(runtime) == before
    elif unsupported:
        assert status == 415, (headers, status)
        assert _state(runtime) == before


def test_cross_site_and_rebinding_requests_change_nothing(quiet_server: Any) -> None:
    """Random Host, Origin, Sec-Fetch-Site and Content-Type on every operation: a request
    from another site, or naming another host, is refused with 403 and changes nothing;
    none gets a 5xx."""
    TALLY.update(dict.fromkeys(TALLY, 0))
    _one_request(quiet_server)
    print(f"\ncross-site fuzz: {TALLY}")
    assert TALLY["requests"] == CROSS_SITE_EXAMPLES
    assert TALLY["server errors"] == 0
    assert 0 < TALLY["refused as cross-site"] < TALLY["requests"]
