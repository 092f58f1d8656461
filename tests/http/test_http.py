"""Dapr's workflow HTTP API served by ``wfr.serve_http()``: the seed's curl commands, the
async request-reply pattern with the virtual clock fast-forwarding, every operation, and
the error answers (JSON, 4xx, never a 5xx or a hang)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import http_workflows
import pytest
from http_workflows import build
from support import WAIT, until

import wfkit as wf
from wfkit.http import _server as _http

START = datetime(2025, 1, 1)
SEED_BODY = '{"Name":"Paperclips","Quantity":1,"TotalCost":9.95}'
TERMINAL = {"COMPLETED", "FAILED", "TERMINATED"}
#: The environment for curl: never through a proxy to this machine.
LOCAL = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@pytest.fixture
def calls(wfr: wf.WorkflowRuntime) -> list[Any]:
    return build(wfr)


@pytest.fixture
def server(wfr: wf.WorkflowRuntime, calls: list[Any]) -> Iterator[Any]:
    with wfr.serve_http() as srv:
        yield srv


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(
    method: str,
    url: str,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """(status, headers, JSON body or None) of one request; never raises on 4xx/5xx."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _NO_PROXY.open(request, timeout=WAIT) as response:
            raw, status, head = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, head = exc.read(), exc.code, dict(exc.headers)
    return status, head, json.loads(raw) if raw else None


def raw_request(server: Any, data: bytes, *, read_timeout: float = WAIT) -> bytes:
    """Send bytes on a fresh connection; return everything the server answers."""
    with socket.create_connection((server.host, server.port), timeout=read_timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def poll(url: str, *, limit: int = 100) -> tuple[list[str], dict[str, Any]]:
    """GET ``url`` as a long poll until the instance finishes; the statuses seen and the
    last state (a long poll lets auto-skip fire timers while it waits)."""
    seen = []
    for _ in range(limit):
        status, _headers, state = call("GET", f"{url}?wait=5")
        assert status == 200, state
        seen.append(state["runtimeStatus"])
        if state["runtimeStatus"] in TERMINAL:
            return seen, state
    raise AssertionError(f"still {seen[-1]} after {limit} polls")


# ------------------------------------------------------------------ the seed's async HTTP pattern
def curl(*args: str) -> str:
    result = subprocess.run(
        ["curl", "-s", "--noproxy", "*", "--max-time", str(WAIT), *args],
        capture_output=True,
        text=True,
        timeout=WAIT + 5,
        check=True,
    )
    return result.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_seeds_curl_commands_work_as_written(wfr, server):
    # seed 003, host and port aside (run through a shell, as a reader would type them)
    start = (
        f"curl -X POST {server.url}/v1.0-beta1/workflows/dapr/OrderProcessingWorkflow/"
        f"start?instanceID=12345678 -d '{SEED_BODY}'"
    )
    status = f"curl {server.url}/v1.0-beta1/workflows/dapr/12345678"
    out = subprocess.run(
        start, shell=True, capture_output=True, text=True, timeout=WAIT, check=True, env=LOCAL
    ).stdout
    assert json.loads(out) == {"instanceID": "12345678"}

    def read() -> dict[str, Any]:
        return json.loads(
            subprocess.run(
                status,
                shell=True,
                capture_output=True,
                text=True,
                timeout=WAIT,
                check=True,
                env=LOCAL,
            ).stdout
        )

    # polls read, they never move time: the order waits for its truck (a 36 h timer)
    until(lambda: wfr.clock.pending_timers())
    assert [read()["runtimeStatus"] for _ in range(3)] == ["RUNNING"] * 3
    assert wfr.clock.now() == START
    wfr.clock.advance(timedelta(hours=36))
    state = read()
    assert state["runtimeStatus"] == "COMPLETED"
    # the seed's completed example, field by field
    assert set(state) == {
        "instanceID",
        "workflowName",
        "createdAt",
        "lastUpdatedAt",
        "runtimeStatus",
        "properties",
    }
    assert state["instanceID"] == "12345678"
    assert state["workflowName"] == "OrderProcessingWorkflow"
    props = state["properties"]
    assert set(props) == {
        "dapr.workflow.custom_status",
        "dapr.workflow.input",
        "dapr.workflow.output",
    }
    assert json.loads(props["dapr.workflow.input"]) == json.loads(SEED_BODY)
    assert json.loads(props["dapr.workflow.output"]) == {"Processed": True}
    assert props["dapr.workflow.custom_status"] == "shipping"  # a str is kept as set
    created = datetime.fromisoformat(state["createdAt"].replace("Z", "+00:00"))
    updated = datetime.fromisoformat(state["lastUpdatedAt"].replace("Z", "+00:00"))
    assert state["createdAt"].endswith("Z")
    assert updated - created == timedelta(hours=36)  # the timer, fast-forwarded


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_with_the_v1_prefix_and_a_generated_instance_id(server):
    out = curl("-X", "POST", f"{server.url}/v1.0/workflows/dapr/echo/start", "-d", "[1, 2]")
    instance_id = json.loads(out)["instanceID"]
    assert instance_id
    state = json.loads(curl(f"{server.url}/v1.0/workflows/dapr/{instance_id}"))
    assert state["runtimeStatus"] == "COMPLETED"
    assert json.loads(state["properties"]["dapr.workflow.output"]) == [1, 2]


def test_polls_never_move_time_and_a_long_poll_fast_forwards(wfr, server):
    base = f"{server.url}/v1.0/workflows/dapr"
    status, _h, reply = call(
        "POST", f"{base}/OrderProcessingWorkflow/start?instanceID=order-1", SEED_BODY
    )
    assert (status, reply) == (202, {"instanceID": "order-1"})
    wall = time.monotonic()
    # reading leaves time alone, as on Dapr: the instance waits on its timer
    until(lambda: wfr.clock.pending_timers())
    for _ in range(5):
        status, _h, state = call("GET", f"{base}/order-1")
        assert state["runtimeStatus"] == "RUNNING"
        # nor do the routes behind the command line's list and history
        assert call("GET", f"{server.url}/wfkit/v1/instances")[0] == 200
        assert call("GET", f"{server.url}/wfkit/v1/instances/order-1/history")[0] == 200
    assert wfr.clock.now() == START
    # a long poll (wfkit's ?wait=) is a wait: auto-skip fires the timer
    status, _h, state = call("GET", f"{base}/order-1?wait=5")
    assert state["runtimeStatus"] == "COMPLETED"
    assert json.loads(state["properties"]["dapr.workflow.output"]) == {"Processed": True}
    assert wfr.clock.now() == START + timedelta(hours=36)
    assert time.monotonic() - wall < 5  # 36 virtual hours, not wall hours


def test_a_poll_answers_as_soon_as_the_instance_finishes(wfr, server):
    base = f"{server.url}/v1.0/workflows/dapr"
    call("POST", f"{base}/OrderProcessingWorkflow/start?instanceID=o2", SEED_BODY)
    started = time.monotonic()
    status, _h, state = call("GET", f"{base}/o2?wait=20")
    assert (status, state["runtimeStatus"]) == (200, "COMPLETED")
    assert time.monotonic() - started < 5


def test_a_poll_wait_makes_every_poll_a_short_wait(wfr, calls):
    with wfr.serve_http(poll_wait=5) as srv:
        base = f"{srv.url}/v1.0/workflows/dapr"
        call("POST", f"{base}/OrderProcessingWorkflow/start?instanceID=o3", SEED_BODY)
        until(lambda: wfr.clock.pending_timers())
        # ?wait=0 still only reads
        assert call("GET", f"{base}/o3?wait=0")[2]["runtimeStatus"] == "RUNNING"
        assert wfr.clock.now() == START
        assert call("GET", f"{base}/o3")[2]["runtimeStatus"] == "COMPLETED"
        assert wfr.clock.now() == START + timedelta(hours=36)


def test_a_system_clock_poll_does_not_wait_unless_asked():
    runtime = wf.WorkflowRuntime(clock="system", store="memory")
    build(runtime)
    runtime.start()
    try:
        with runtime.serve_http() as srv:
            base = f"{srv.url}/v1.0/workflows/dapr"
            call("POST", f"{base}/waiter/start?instanceID=w", "")
            started = time.monotonic()
            assert call("GET", f"{base}/w")[2]["runtimeStatus"] in ("RUNNING", "PENDING")
            # a poll that waited would take seconds (poll_wait)
            assert time.monotonic() - started < 2
    finally:
        runtime.shutdown()


# ------------------------------------------------------------------ every operation
def test_raise_event_completes_a_waiting_request_escalation(wfr, server, calls):
    base = f"{server.url}/v1.0/workflows/dapr"
    call("POST", f"{base}/request_escalation/start?instanceID=esc", '{"amount": 5000}')
    until(lambda: wfr._engine.waiting_for_events("esc") == ["human_approval"])
    status, _h, reply = call("POST", f"{base}/esc/raiseEvent/human_approval", '{"approved": true}')
    assert (status, reply) == (202, None)
    state = call("GET", f"{base}/esc?wait=5")[2]
    assert state["runtimeStatus"] == "COMPLETED"
    assert ("process_approval_activity", {"approved": True}) in calls
    assert wfr.clock.now() == START  # the 7-day timeout never fired


def test_pause_resume_terminate_and_purge(wfr, server):
    base = f"{server.url}/v1.0/workflows/dapr"
    call("POST", f"{base}/waiter/start?instanceID=life", "")
    until(lambda: wfr._engine.waiting_for_events("life") == ["go"])
    assert call("POST", f"{base}/life/pause")[0] == 202
    assert call("GET", f"{base}/life?wait=0")[2]["runtimeStatus"] == "SUSPENDED"
    assert call("POST", f"{base}/life/resume")[0] == 202
    assert call("GET", f"{base}/life?wait=0")[2]["runtimeStatus"] == "RUNNING"
    assert call("POST", f"{base}/life/resume")[0] == 202  # resuming a running one: no-op
    assert call("POST", f"{base}/life/terminate", '{"reason": "cancelled"}')[0] == 202
    state = call("GET", f"{base}/life")[2]
    assert state["runtimeStatus"] == "TERMINATED"
    assert json.loads(state["properties"]["dapr.workflow.output"]) == {"reason": "cancelled"}
    assert call("POST", f"{base}/life/purge")[0] == 202
    status, _h, error = call("GET", f"{base}/life")
    assert status == 404 and error["errorCode"] == "ERR_INSTANCE_ID_NOT_FOUND"


def test_a_failed_instance_reports_its_failure(server):
    base = f"{server.url}/v1.0/workflows/dapr"
    call("POST", f"{base}/failing/start?instanceID=f", "")
    state = call("GET", f"{base}/f?wait=5")[2]
    assert state["runtimeStatus"] == "FAILED"
    props = state["properties"]
    assert props["dapr.workflow.failure.error_type"] == "ValueError"
    assert props["dapr.workflow.failure.error_message"] == "this workflow always fails"
    assert "dapr.workflow.output" not in props


@pytest.mark.parametrize("prefix", ["v1.0", "v1.0-beta1", "v1.0-alpha1"])
def test_every_api_version_prefix(server, prefix):
    base = f"{server.url}/{prefix}/workflows/dapr"
    assert call("POST", f"{base}/echo/start?instanceID=p", '"hi"')[0] == 202
    state = call("GET", f"{base}/p?wait=5")[2]
    assert state["properties"]["dapr.workflow.output"] == '"hi"'
    assert call("POST", f"{base}/p/purge")[0] == 202


def test_reusing_the_id_of_a_finished_instance_starts_it_again(server):
    base = f"{server.url}/v1.0/workflows/dapr"
    for value in ("1", "2"):
        assert call("POST", f"{base}/echo/start?instanceID=again", value)[0] == 202
        assert call("GET", f"{base}/again?wait=5")[2]["properties"]["dapr.workflow.output"] == value


def test_wfkit_routes_list_history_rerun_and_info(wfr, server):
    base = f"{server.url}/v1.0/workflows/dapr"
    call("POST", f"{base}/OrderProcessingWorkflow/start?instanceID=a", SEED_BODY)
    call("POST", f"{base}/echo/start?instanceID=b", "1")
    poll(f"{base}/a")
    listing = call("GET", f"{server.url}/wfkit/v1/instances")[2]
    assert [i["instanceID"] for i in listing["instances"]] == ["a", "b"]
    only = call("GET", f"{server.url}/wfkit/v1/instances?name=echo&status=completed")[2]
    assert [i["instanceID"] for i in only["instances"]] == ["b"]
    history = call("GET", f"{server.url}/wfkit/v1/instances/a/history")[2]
    kinds = [e["kind"] for e in history["events"]]
    assert kinds[:3] == ["WorkflowStarted", "ExecutionStarted", "TimerCreated"]
    assert kinds[-1] == "ExecutionCompleted"
    scheduled = next(e for e in history["events"] if e["kind"] == "TaskScheduled")
    status, _h, reply = call(
        "POST",
        f"{server.url}/wfkit/v1/instances/a/rerun",
        json.dumps({"eventId": scheduled["eventId"], "newInstanceId": "a2", "input": {"x": 1}}),
    )
    assert (status, reply) == (202, {"instanceID": "a2"})
    assert call("GET", f"{base}/a2?wait=5")[2]["runtimeStatus"] == "COMPLETED"
    info = call("GET", f"{server.url}/wfkit/v1/info")[2]
    assert "OrderProcessingWorkflow" in info["workflows"]
    assert "process_order" in info["activities"]


def test_openapi_description_is_served(server):
    status, headers, spec = call("GET", f"{server.url}/openapi.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert spec["openapi"].startswith("3.")
    for path in (
        "/v1.0/workflows/dapr/{workflowName}/start",
        "/v1.0/workflows/dapr/{instanceID}",
        "/v1.0/workflows/dapr/{instanceID}/raiseEvent/{eventName}",
        "/v1.0/workflows/dapr/{instanceID}/terminate",
        "/v1.0/workflows/dapr/{instanceID}/pause",
        "/v1.0/workflows/dapr/{instanceID}/resume",
        "/v1.0/workflows/dapr/{instanceID}/purge",
        "/v1.0-beta1/workflows/dapr/{workflowName}/start",
    ):
        assert path in spec["paths"], path
    start = spec["paths"]["/v1.0/workflows/dapr/{workflowName}/start"]["post"]
    assert "OrderProcessingWorkflow" in start["parameters"][0]["examples"]
    assert "securitySchemes" not in spec["components"]


def test_head_answers_without_a_body(server):
    request = b"HEAD /v1.0/workflows/dapr/nobody HTTP/1.1\r\nConnection: close\r\n\r\n"
    answer = raw_request(server, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404")
    assert body == b""


# ------------------------------------------------------------------ bad requests
BAD = [
    # (method, path, body, status, errorCode)
    ("POST", "/v1.0/workflows/dapr/nope/start", "{}", 404, "ERR_WORKFLOW_NOT_FOUND"),
    ("POST", "/v1.0/workflows/dapr/nope/start", "{bad", 404, "ERR_WORKFLOW_NOT_FOUND"),
    ("POST", "/v1.0/workflows/dapr/echo/start", "{bad", 400, "ERR_MALFORMED_REQUEST"),
    ("POST", "/v1.0/workflows/dapr/echo/start", "NaN", 400, "ERR_MALFORMED_REQUEST"),
    ("POST", "/v1.0/workflows/dapr/echo/start", b"\xff\xfe", 400, "ERR_MALFORMED_REQUEST"),
    ("POST", "/v1.0/workflows/dapr/echo/start", "[" * 5000, 400, "ERR_MALFORMED_REQUEST"),
    (
        "POST",
        "/v1.0/workflows/dapr/echo/start?instanceID=has%20space",
        "1",
        400,
        "ERR_INSTANCE_ID_INVALID",
    ),
    ("GET", "/v1.0/workflows/dapr/missing", None, 404, "ERR_INSTANCE_ID_NOT_FOUND"),
    ("GET", "/v1.0/workflows/dapr/missing?wait=x", None, 400, "ERR_MALFORMED_REQUEST"),
    ("GET", "/v1.0/workflows/dapr/missing?wait=31", None, 400, "ERR_MALFORMED_REQUEST"),
    ("GET", "/v1.0/workflows/dapr/missing?wait=nan", None, 400, "ERR_MALFORMED_REQUEST"),
    (
        "POST",
        "/v1.0/workflows/dapr/missing/raiseEvent/x",
        "1",
        404,
        "ERR_INSTANCE_ID_NOT_FOUND",
    ),
    ("POST", "/v1.0/workflows/dapr/missing/raiseEvent/x", "{", 400, "ERR_MALFORMED_REQUEST"),
    ("POST", "/v1.0/workflows/dapr/missing/terminate", None, 404, "ERR_INSTANCE_ID_NOT_FOUND"),
    ("POST", "/v1.0/workflows/dapr/missing/pause", None, 404, "ERR_INSTANCE_ID_NOT_FOUND"),
    ("POST", "/v1.0/workflows/dapr/missing/resume", None, 404, "ERR_INSTANCE_ID_NOT_FOUND"),
    ("POST", "/v1.0/workflows/dapr/missing/purge", None, 404, "ERR_INSTANCE_ID_NOT_FOUND"),
    (
        "POST",
        "/v1.0/workflows/dapr/missing/purge?non_recursive=maybe",
        None,
        400,
        "ERR_MALFORMED_REQUEST",
    ),
    ("GET", "/v1.0/workflows/dapr/x/start", None, 405, "ERR_METHOD_NOT_ALLOWED"),
    ("POST", "/v1.0/workflows/dapr/missing", None, 405, "ERR_METHOD_NOT_ALLOWED"),
    ("DELETE", "/v1.0/workflows/dapr/missing", None, 405, "ERR_METHOD_NOT_ALLOWED"),
    ("PATCH", "/openapi.json", None, 405, "ERR_METHOD_NOT_ALLOWED"),
    ("BREW", "/v1.0/workflows/dapr/missing/purge", None, 405, "ERR_METHOD_NOT_ALLOWED"),
    ("GET", "/", None, 404, "ERR_NOT_FOUND"),
    ("GET", "/v1.0/workflows", None, 404, "ERR_NOT_FOUND"),
    ("GET", "/v1.0/workflows/dapr", None, 404, "ERR_NOT_FOUND"),
    ("GET", "/v1.0/workflows/dapr/a/b/c/d", None, 404, "ERR_NOT_FOUND"),
    ("GET", "/v2/workflows/dapr/x", None, 404, "ERR_NOT_FOUND"),
    ("GET", "/v1.0/workflows/temporal/x", None, 400, "ERR_WORKFLOW_COMPONENT_NOT_FOUND"),
    ("POST", "/v1.0/workflows/dapr/x/raiseEvent/", None, 400, "ERR_WORKFLOW_EVENT_NAME_MISSING"),
    ("GET", "/wfkit/v1/instances?status=NAPPING", None, 400, "ERR_MALFORMED_REQUEST"),
    ("GET", "/wfkit/v1/instances/missing/history", None, 404, "ERR_INSTANCE_ID_NOT_FOUND"),
    ("POST", "/wfkit/v1/instances/missing/rerun", "[]", 400, "ERR_MALFORMED_REQUEST"),
    ("POST", "/wfkit/v1/instances/missing/rerun", '{"eventId": "1"}', 400, "ERR_MALFORMED_REQUEST"),
    (
        "POST",
        "/wfkit/v1/instances/missing/rerun",
        '{"eventId": 1}',
        404,
        "ERR_INSTANCE_ID_NOT_FOUND",
    ),
    ("GET", "/wfkit/v1/nothing", None, 404, "ERR_NOT_FOUND"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), BAD)
def test_bad_requests_get_a_json_4xx(server, method, path, body, status, code):
    got, headers, error = call(method, server.url + path, body)
    assert (got, error["errorCode"]) == (status, code), error
    assert headers["Content-Type"] == "application/json"
    assert error["message"]
    if got == 405:
        assert headers["Allow"]


def test_conflicting_states_are_409(wfr, server):
    base = f"{server.url}/v1.0/workflows/dapr"
    call("POST", f"{base}/waiter/start?instanceID=busy", "")
    status, _h, error = call("POST", f"{base}/waiter/start?instanceID=busy", "")
    assert (status, error["errorCode"]) == (409, "ERR_START_WORKFLOW")
    assert "already exists" in error["message"]
    status, _h, error = call("POST", f"{base}/busy/purge")
    assert (status, error["errorCode"]) == (409, "ERR_PURGE_WORKFLOW")
    call("POST", f"{base}/busy/terminate")
    # commands to a finished instance are dropped, as Dapr's engine drops them
    for verb in ("terminate", "pause", "resume", "raiseEvent/go"):
        status, _h, _error = call("POST", f"{base}/busy/{verb}", "1")
        assert status == 202, verb
    status, _h, error = call(
        "POST", f"{server.url}/wfkit/v1/instances/busy/rerun", '{"eventId": 99}'
    )
    assert status == 400 and "event id 99" in error["message"]


def test_an_oversize_body_is_refused_unread(calls):
    runtime = wf.WorkflowRuntime(
        clock=wf.VirtualClock(START, flow=False), store=":memory:", max_payload_bytes=1000
    )
    build(runtime)
    runtime.start()
    try:
        with runtime.serve_http() as srv:
            url = f"{srv.url}/v1.0/workflows/dapr/echo/start"
            status, _headers, error = call("POST", url, json.dumps("x" * 2000))
            assert (status, error["errorCode"]) == (413, "ERR_BODY_TOO_LARGE")
            assert "1,000 bytes" in error["message"]
            # a body under the limit whose payload is over it (\u escapes grow it)
            body = json.dumps(["\u00e9" * 300], ensure_ascii=False)
            assert len(body.encode()) < 1000
            status, _h, error = call("POST", url, body)
            assert (status, error["errorCode"]) == (413, "ERR_PAYLOAD_TOO_LARGE")
            # the server still answers
            assert call("POST", url, "1")[0] == 202
    finally:
        runtime.shutdown()


def test_stalled_and_malformed_connections_never_hang_the_server(server, monkeypatch):
    monkeypatch.setattr(_http.RequestHandler, "timeout", 0.5)
    # a body shorter than its Content-Length: 408 once the socket times out
    answer = raw_request(
        server,
        b"POST /v1.0/workflows/dapr/echo/start HTTP/1.1\r\nContent-Length: 100\r\n\r\n[1,",
    )
    assert answer.startswith(b"HTTP/1.1 408")
    assert b'"ERR_REQUEST_TIMEOUT"' in answer
    # a client that sends nothing is dropped
    started = time.monotonic()
    assert raw_request(server, b"") == b""
    assert time.monotonic() - started < 5
    # garbage request lines, chunked bodies and bad lengths: JSON 4xx
    for data, status in (
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
        (
            b"POST /v1.0/workflows/dapr/echo/start HTTP/1.1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n1\r\n1\r\n0\r\n\r\n",
            b"411",
        ),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET /x HTTP/2.0\r\n\r\n", b"400"),
        (b"GET /x HTTP/1.x\r\n\r\n", b"400"),
    ):
        answer = raw_request(server, data)
        assert answer.split(b" ", 2)[1] == status, answer[:200]
        assert b'"errorCode"' in answer
    # and it still serves
    assert call("GET", f"{server.url}/wfkit/v1/info")[0] == 200


def test_keep_alive_connections_serve_several_requests(server):
    request = b"GET /wfkit/v1/info HTTP/1.1\r\n\r\n"
    last = b"GET /wfkit/v1/info HTTP/1.1\r\nConnection: close\r\n\r\n"
    answer = raw_request(server, request + request + last)
    assert answer.count(b"HTTP/1.1 200 OK") == 3


# ------------------------------------------------------------------ token and binding
def test_a_token_is_required_when_set(wfr, calls):
    with wfr.serve_http(token="s3cret") as srv:
        url = f"{srv.url}/v1.0/workflows/dapr/echo/start"
        status, _h, error = call("POST", url, "1")
        assert (status, error["errorCode"]) == (401, "ERR_UNAUTHORIZED")
        assert call("POST", url, "1", {"dapr-api-token": "wrong"})[0] == 401
        assert call("POST", url, "1", {"Authorization": "Bearer wrong"})[0] == 401
        assert call("POST", url, "1", {"dapr-api-token": "s3cret"})[0] == 202
        assert call("POST", url, "1", {"Authorization": "Bearer s3cret"})[0] == 202
        assert call("GET", f"{srv.url}/openapi.json")[0] == 401
        spec = call("GET", f"{srv.url}/openapi.json", headers={"dapr-api-token": "s3cret"})[2]
        assert "daprApiToken" in spec["components"]["securitySchemes"]


def test_binding_beyond_loopback_needs_to_be_asked_for(wfr):
    with pytest.raises(ValueError, match="allow_remote=True"):
        wfr.serve_http(host="0.0.0.0")
    with pytest.warns(wf.WfkitWarning, match="without a token"):
        srv = wfr.serve_http(host="0.0.0.0", allow_remote=True)
    srv.shutdown()
    with wfr.serve_http(host="0.0.0.0", allow_remote=True, token="t") as srv:
        assert srv.url.startswith("http://0.0.0.0:")
    with wfr.serve_http(host="localhost") as srv:
        assert call("GET", f"{srv.url}/wfkit/v1/info")[0] == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": -1}, "port must be"),
        ({"port": 70000}, "port must be"),
        ({"host": ""}, "host must be"),
        ({"token": ""}, "token must be"),
        ({"poll_wait": -1}, "poll_wait"),
    ],
)
def test_bad_server_arguments(wfr, kwargs, message):
    with pytest.raises(ValueError, match=message):
        wfr.serve_http(**kwargs)


def test_serving_again_on_a_port_replaces_the_previous_server(wfr, calls):
    first = wfr.serve_http()
    port = first.port
    second = wfr.serve_http(port)
    try:
        assert not first.running and second.running and second.port == port
        assert call("GET", f"{second.url}/wfkit/v1/info")[0] == 200
        other = wf.WorkflowRuntime(store="memory")
        with pytest.raises(OSError, match="Pick another port"):
            other.serve_http(port)
    finally:
        second.shutdown()
    # shut down: the port is free again
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_the_server_shows_where_it_listens(wfr):
    with wfr.serve_http() as srv:
        assert f"serving at http://127.0.0.1:{srv.port}" in repr(srv)
        assert _http.servers(wfr) == [srv]
    assert "stopped" in repr(srv)
    assert _http.servers(wfr) == []
    srv.shutdown()  # twice is fine


def test_a_runtime_that_is_not_started_answers_reads_and_queues_starts(calls):
    runtime = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=":memory:")
    build(runtime)
    with runtime.serve_http() as srv:
        base = f"{srv.url}/v1.0/workflows/dapr"
        assert call("POST", f"{base}/echo/start?instanceID=q", "1")[0] == 202
        assert call("GET", f"{base}/q")[2]["runtimeStatus"] == "PENDING"
        runtime.start()  # returns at once: the queued instance runs on the engine's thread
        try:
            assert call("GET", f"{base}/q?wait=5")[2]["runtimeStatus"] == "COMPLETED"
        finally:
            runtime.shutdown()


def test_a_read_only_store_is_served_for_reading(tmp_path):
    pytest.importorskip("duckdb", reason="the DuckDB store needs duckdb")
    from wfkit.store import DuckDBStore

    path = tmp_path / "runs.duckdb"
    writer = wf.WorkflowRuntime(store=path)
    build(writer)
    writer.start()
    client = wf.DaprWorkflowClient(writer)
    client.schedule_new_workflow("echo", input=3, instance_id="e")
    client.wait_for_workflow_completion("e", timeout_in_seconds=WAIT)
    writer.shutdown()

    reader = wf.WorkflowRuntime(store=DuckDBStore(path, read_only=True))
    build(reader)
    with reader.serve_http() as srv:
        base = f"{srv.url}/v1.0/workflows/dapr"
        assert call("GET", f"{base}/e")[2]["properties"]["dapr.workflow.output"] == "3"
        for method, path_, body in (("POST", "/echo/start", "1"), ("POST", "/e/purge", None)):
            status, _h, error = call(method, base + path_, body)
            assert (status, error["errorCode"]) == (409, "ERR_STORE")
            assert "read-only" in error["message"]
    reader.shutdown()


def test_concurrent_clients(wfr, calls):
    from concurrent.futures import ThreadPoolExecutor

    server = wfr.serve_http(poll_wait=5)  # polls wait, so auto-skip fires the timers
    base = f"{server.url}/v1.0/workflows/dapr"

    def one(i: int) -> str:
        call("POST", f"{base}/OrderProcessingWorkflow/start?instanceID=c{i}", json.dumps({"i": i}))
        return poll(f"{base}/c{i}")[1]["runtimeStatus"]

    with server, ThreadPoolExecutor(16) as pool:
        assert list(pool.map(one, range(32))) == ["COMPLETED"] * 32


# ------------------------------------------------------------------ web pages and slow clients
def with_host(server: Any, host: str, path: str = "/wfkit/v1/instances") -> bytes:
    """The answer to a GET sent with ``Host: host``."""
    return raw_request(
        server, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    )


def test_a_foreign_host_is_refused_so_dns_rebinding_reads_nothing(wfr, server):
    base = f"{server.url}/v1.0/workflows/dapr"
    call("POST", f"{base}/echo/start?instanceID=private", '"card 4111"')
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert with_host(server, host).startswith(b"HTTP/1.1 200"), host
    for host in (
        f"evil.example:{port}",
        "evil.example",
        f"127.0.0.1:{port + 1}",
        f"localhost.evil.example:{port}",
        f"user@localhost:{port}",
        "",
    ):
        answer = with_host(server, host, "/v1.0/workflows/dapr/private")
        assert answer.startswith(b"HTTP/1.1 403"), (host, answer[:100])
        assert b'"ERR_HOST_NOT_ALLOWED"' in answer and b"4111" not in answer
    two_hosts = raw_request(
        server,
        f"GET /wfkit/v1/info HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert two_hosts.startswith(b"HTTP/1.1 400")


def test_more_host_names_can_be_allowed(wfr, calls):
    with wfr.serve_http(allowed_hosts=["box.lan", "proxy.lan:8080"]) as srv:
        assert with_host(srv, f"box.lan:{srv.port}").startswith(b"HTTP/1.1 200")
        assert with_host(srv, "proxy.lan:8080").startswith(b"HTTP/1.1 200")
        assert with_host(srv, f"proxy.lan:{srv.port}").startswith(b"HTTP/1.1 403")
        assert with_host(srv, f"other.lan:{srv.port}").startswith(b"HTTP/1.1 403")
    with wfr.serve_http(allowed_hosts=["*"]) as srv:
        assert with_host(srv, "anything.example").startswith(b"HTTP/1.1 200")
    with pytest.raises(ValueError, match="allowed_hosts"):
        wfr.serve_http(allowed_hosts="box.lan")
    with pytest.raises(ValueError, match="not a host name"):
        wfr.serve_http(allowed_hosts=["http://box.lan/"])


CROSS_SITE = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost:8888", "Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
    {"Sec-Fetch-Site": "same-site"},
]


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_cross_site_requests_are_refused_and_change_nothing(wfr, server, headers):
    base = f"{server.url}/v1.0/workflows/dapr"
    call("POST", f"{base}/waiter/start?instanceID=w", "")
    before = list(wfr.instances()["instance_id"])
    plain = {**headers, "Content-Type": "text/plain"}
    for method, path, body in (
        ("POST", "/echo/start?instanceID=evil", "1"),
        ("POST", "/w/raiseEvent/go", "1"),
        ("POST", "/w/pause", None),
        ("POST", "/w/terminate", None),
        ("POST", "/w/purge", None),
        ("GET", "/w", None),
    ):
        status, head, error = call(method, base + path, body, plain)
        assert (status, error["errorCode"]) == (403, "ERR_CROSS_ORIGIN"), (method, path)
        assert not any(k.lower().startswith("access-control-") for k in head)
    assert list(wfr.instances()["instance_id"]) == before
    assert wf.DaprWorkflowClient(wfr).get_workflow_state("w").runtime_status.name == "RUNNING"


def test_a_browser_on_the_servers_own_origin_must_send_json(server):
    base = f"{server.url}/v1.0/workflows/dapr"
    own = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
    status, _h, error = call(
        "POST", f"{base}/echo/start", "1", {**own, "Content-Type": "text/plain"}
    )
    assert (status, error["errorCode"]) == (415, "ERR_UNSUPPORTED_MEDIA_TYPE")
    json_type = {**own, "Content-Type": "application/json; charset=utf-8"}
    assert call("POST", f"{base}/echo/start", "1", json_type)[0] == 202
    # a URL typed in the address bar, and clients that are not browsers (curl -d sends a
    # form content type, as in Dapr's examples)
    assert call("GET", f"{server.url}/openapi.json", headers={"Sec-Fetch-Site": "none"})[0] == 200
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert call("POST", f"{base}/echo/start", "1", form)[0] == 202


def test_a_cors_preflight_is_refused_without_allowing_any_origin(server):
    path = f"{server.url}/v1.0/workflows/dapr/echo/start"
    preflight = {
        "Origin": "http://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    status, head, error = call("OPTIONS", path, headers=preflight)
    assert (status, error["errorCode"]) == (403, "ERR_CROSS_ORIGIN")
    assert not any(k.lower().startswith("access-control-") for k in head)
    # OPTIONS from a client that is not a browser: a method this path does not have
    status, head, error = call("OPTIONS", path)
    assert (status, head["Allow"]) == (405, "POST")


def test_stack_traces_are_served_only_when_asked_for(wfr, calls):
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("failing", instance_id="f")
    client.wait_for_workflow_completion("f", timeout_in_seconds=WAIT)
    here = os.path.dirname(http_workflows.__file__)  # where the failing workflow is
    for asked in (False, True):
        with wfr.serve_http(stack_traces=asked) as srv:
            state = call("GET", f"{srv.url}/v1.0/workflows/dapr/f")[2]
            listed = call("GET", f"{srv.url}/wfkit/v1/instances")[2]
            history = call("GET", f"{srv.url}/wfkit/v1/instances/f/history")[2]
        props = state["properties"]
        assert props["dapr.workflow.failure.error_message"] == "this workflow always fails"
        text = json.dumps([state, listed, history])
        assert ("dapr.workflow.failure.stack_trace" in props) is asked
        assert (here in text) is asked


def test_a_slow_client_is_cut_off_however_its_bytes_trickle_in(wfr, calls):
    with wfr.serve_http(request_timeout=1.0) as srv:
        request = (
            f"POST /v1.0/workflows/dapr/echo/start HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
            "Content-Length: 200\r\n\r\n" + "1" * 200
        ).encode()
        started = time.monotonic()
        sent = 0
        with socket.create_connection((srv.host, srv.port), timeout=WAIT) as sock:
            try:
                for byte in request:  # a byte every 0.2 s: each well within the idle timeout
                    sock.sendall(bytes([byte]))
                    sent += 1
                    time.sleep(0.2)
                    if time.monotonic() - started > 8:
                        break
                answer = sock.recv(65536)
            except (BrokenPipeError, ConnectionResetError):
                answer = b""
        elapsed = time.monotonic() - started
        assert elapsed < 4, (elapsed, sent)
        assert sent < len(request)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
        assert call("GET", f"{srv.url}/wfkit/v1/info")[0] == 200
    with pytest.raises(ValueError, match="request_timeout"):
        wfr.serve_http(request_timeout=0)


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        (
            "POST",
            "/v1.0/workflows/dapr/echo/start?instanceID=abc%0A",
            "1",
            "ERR_INSTANCE_ID_INVALID",
        ),
        (
            "POST",
            "/v1.0/workflows/dapr/echo/start?instanceID=a%1Bb",
            "1",
            "ERR_INSTANCE_ID_INVALID",
        ),
        ("GET", "/v1.0/workflows/dapr/abc%0A", None, "ERR_MALFORMED_REQUEST"),
        ("POST", "/v1.0/workflows/dapr/abc%0D%0A/terminate", None, "ERR_MALFORMED_REQUEST"),
        ("POST", "/v1.0/workflows/dapr/abc/raiseEvent/go%1B%5B2J", "1", "ERR_MALFORMED_REQUEST"),
        (
            "POST",
            "/wfkit/v1/instances/abc/rerun",
            '{"eventId": 1, "newInstanceId": "x\\n"}',
            "ERR_INSTANCE_ID_INVALID",
        ),
    ],
)
def test_ids_and_names_with_control_characters_are_refused(wfr, server, method, path, body, code):
    status, _h, error = call(method, server.url + path, body)
    assert (status, error["errorCode"]) == (400, code), error
    assert wfr.instances().empty
