"""Dapr's workflow HTTP API, served from an in-process runtime: ``wfr.serve_http()``.

Routes (also under the ``/v1.0-beta1`` and ``/v1.0-alpha1`` prefixes)::

    POST /v1.0/workflows/dapr/{workflowName}/start[?instanceID=ID]    body: the input (JSON)
    GET  /v1.0/workflows/dapr/{instanceID}[?wait=SECONDS]
    POST /v1.0/workflows/dapr/{instanceID}/raiseEvent/{eventName}      body: the data (JSON)
    POST /v1.0/workflows/dapr/{instanceID}/terminate|pause|resume|purge

wfkit's own routes, which the ``wfkit`` command line uses: ``GET /wfkit/v1/info``,
``GET /wfkit/v1/instances[?name=&status=]``, ``GET /wfkit/v1/instances/{id}/history``,
``POST /wfkit/v1/instances/{id}/rerun``; and ``GET /openapi.json``, this API's description.

Every operation goes through a :class:`DaprWorkflowClient` of the runtime. Errors are JSON
``{"errorCode": ..., "message": ...}`` with a 4xx status; a request body over the runtime's
payload limit is refused before it is read. A whole request (line, headers and body) must
arrive within ``request_timeout`` seconds, however its bytes trickle in. Before routing,
every request passes the checks of :mod:`wfkit.http._access` (its ``Host``, and that no
web page of another site sends it).

Status polls and the virtual clock
----------------------------------
Reading a status never moves time, as on Dapr: a ``GET`` answers at once, and the virtual
clock flows with wall time meanwhile, so a client that polls every second sees a 2 s
timer fire after about 2 s. ``?wait=N`` (wfkit's own) is a long poll: it waits up to N
seconds (at most 30) for the instance to finish, as ``wait_for_workflow_completion``
would, so auto-skip may jump time while it waits. ``serve_http(poll_wait=N)`` makes every
poll such a wait.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import ipaddress
import json
import logging
import math
import re
import socket
import socketserver
import threading
import time
import weakref
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

from wfkit.core import _serde
from wfkit.core._errors import (
    InstanceExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
    PayloadTooLargeError,
    RuntimeNotStartedError,
    SerializationError,
    StoreError,
    WfkitWarning,
    WorkflowNotRegisteredError,
)
from wfkit.core._state import UNSET, WorkflowStatus
from wfkit.http import _openapi as _openapi
from wfkit.http._access import Access, Refused
from wfkit.inspect._views import event_json, instance_json, timestamp
from wfkit.runtime._client import DaprWorkflowClient

if TYPE_CHECKING:
    from wfkit.runtime._runtime import WorkflowRuntime

log = logging.getLogger("wfkit.http")

#: Default wall seconds a status poll waits on an unfinished instance (auto-skip clocks).
POLL_WAIT = 0.0
#: Seconds a connection may stall (reading a request line, headers or body) before it is
#: dropped; also how long an idle keep-alive connection is kept.
SOCKET_TIMEOUT = 10.0
#: Default seconds in which a whole request must arrive (from the connection, or the end
#: of the previous answer on a kept-alive one).
REQUEST_TIMEOUT = 10.0

_INSTANCE_ID = re.compile(_openapi.INSTANCE_ID_PATTERN)
# Ids and names in a path: anything a client may have created, but no control characters
# (a trailing newline, an escape sequence), which no id or name needs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_COMMANDS = {"terminate", "pause", "resume", "purge"}
_servers: weakref.WeakKeyDictionary[Any, list[WorkflowHTTPServer]] = weakref.WeakKeyDictionary()
_servers_lock = threading.Lock()


class _Reply(Exception):
    """An error answer: raised anywhere in a handler, sent as JSON."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        close: bool = False,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.close = close
        self.headers = headers or {}


def _fail(status: int, code: str, message: str, **kw: Any) -> NoReturn:
    raise _Reply(status, code, message, **kw)


def _client_error(exc: Exception, op_code: str) -> _Reply:
    """The HTTP answer for an error a client call raised."""
    if isinstance(exc, WorkflowNotRegisteredError):
        return _Reply(404, "ERR_WORKFLOW_NOT_FOUND", str(exc))
    if isinstance(exc, InstanceNotFoundError):
        return _Reply(404, "ERR_INSTANCE_ID_NOT_FOUND", str(exc))
    if isinstance(exc, InstanceExistsError | InvalidInstanceStateError):
        return _Reply(409, op_code, str(exc))
    if isinstance(exc, PayloadTooLargeError):
        return _Reply(413, "ERR_PAYLOAD_TOO_LARGE", str(exc))
    if isinstance(exc, SerializationError):
        return _Reply(400, "ERR_MALFORMED_REQUEST_DATA", str(exc))
    if isinstance(exc, StoreError):
        return _Reply(409, "ERR_STORE", str(exc))
    if isinstance(exc, RuntimeNotStartedError):
        return _Reply(503, "ERR_WORKFLOW_RUNTIME_NOT_STARTED", str(exc))
    if isinstance(exc, ValueError | TypeError | RecursionError):
        return _Reply(400, op_code, str(exc) or type(exc).__name__)
    raise exc


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _parse_json(body: bytes, what: str) -> Any:
    """The JSON value of a body; an empty body is None (no input, no data)."""
    if not body.strip():
        return None
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail(400, "ERR_MALFORMED_REQUEST", f"{what} is not UTF-8 text")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        _fail(
            400,
            "ERR_MALFORMED_REQUEST",
            f'{what} is not valid JSON ({exc}); send JSON, e.g. {{"amount": 5}}, or a '
            'quoted string: "text"',
        )


class _DeadlineReader(io.RawIOBase):
    """Socket reads that fail once the request's deadline has passed: a client sending a
    byte every few seconds is cut off as surely as one that sends nothing."""

    def __init__(self, sock: socket.socket, idle: float):
        self._sock = sock
        self.idle = idle
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the request did not arrive in time")
            self._sock.settimeout(min(self.idle, remaining))
        return self._sock.recv_into(buffer)


def _flag(query: dict[str, list[str]], name: str) -> bool:
    values = query.get(name)
    if not values:
        return False
    value = values[-1].strip().lower()
    if value in ("", "true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    _fail(400, "ERR_MALFORMED_REQUEST", f"{name} must be true or false, not {values[-1]!r}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wfkit"
    sys_version = ""
    timeout = SOCKET_TIMEOUT
    server: _Server

    # Every method goes through one dispatcher, so an unknown one gets a 405 (not 501).
    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self._reader = _DeadlineReader(self.connection, self.timeout)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + self.server.app.request_timeout
        try:
            super().handle_one_request()
        finally:
            self._reader.deadline = None

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the standard library detects (bad request line, headers too long): JSON,
        with a status line even when the request line was too broken to tell its version."""
        if code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:  # a client mistake: keep it 4xx
            code, message = 400, f"{message or 'unsupported HTTP version'}; use HTTP/1.1"
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        status_code = "ERR_" + phrase.upper().replace(" ", "_").replace("-", "_")
        self._send(code, {"errorCode": status_code, "message": message or phrase}, close=True)

    # ------------------------------------------------------------------ plumbing
    def _send(
        self,
        status: int,
        payload: Any = None,
        *,
        close: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        try:
            self.connection.settimeout(self.timeout)  # reads may have shortened it
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if body and getattr(self, "command", None) != "HEAD":
                self.wfile.write(body)
        except OSError:  # the client went away
            self.close_connection = True

    def _handle(self) -> None:
        try:
            self._serve()
        except _Reply as reply:
            self._send(
                reply.status,
                {"errorCode": reply.code, "message": reply.message},
                close=reply.close,
                headers=reply.headers,
            )
        except Exception as exc:  # a bug in wfkit: still a JSON answer, and a log record
            log.exception("error serving %s %s", self.command, self.path)
            self._send(
                500,
                {"errorCode": "ERR_INTERNAL", "message": f"{type(exc).__name__}: {exc}"},
                close=True,
            )

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            _fail(
                411,
                "ERR_LENGTH_REQUIRED",
                "send the body with a Content-Length (chunked bodies are not accepted)",
                close=True,
            )
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return b""
        if len(set(lengths)) > 1 or not lengths[0].strip().isdigit():
            _fail(400, "ERR_MALFORMED_REQUEST", "bad Content-Length header", close=True)
        length = int(lengths[0])
        limit = self.server.app.max_body_bytes
        if length > limit:
            _fail(
                413,
                "ERR_BODY_TOO_LARGE",
                f"the body is {length:,} bytes, over the runtime's payload limit of "
                f"{limit:,} bytes",
                close=True,
            )
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            _fail(408, "ERR_REQUEST_TIMEOUT", "the body did not arrive in time", close=True)
        if len(body) < length:
            _fail(
                400,
                "ERR_MALFORMED_REQUEST",
                "the body is shorter than its Content-Length",
                close=True,
            )
        return body

    def _authorized(self) -> bool:
        token = self.server.app.token
        if token is None:
            return True
        expected = token.encode("utf-8")
        given = self.headers.get("dapr-api-token")
        if given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), expected):
            return True
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode("utf-8", "replace"), expected
        )

    # ------------------------------------------------------------------ routing
    def _serve(self) -> None:
        try:
            self.server.app.access.check(self.command, self.headers)
        except Refused as refused:  # the body is left unread: the connection closes
            _fail(refused.status, refused.code, refused.message, close=True)
        if not self._authorized():
            _fail(
                401,
                "ERR_UNAUTHORIZED",
                "missing or wrong API token: send it as a dapr-api-token header or as "
                "Authorization: Bearer <token>",
                close=True,
            )
        body = self._read_body()
        split = urlsplit(self.path)
        raw = split.path
        if len(raw) > 1 and raw.endswith("/"):
            raw = raw[:-1]
        parts = [unquote(p, errors="replace") for p in raw.split("/")[1:]]
        if any(_CONTROL.search(part) for part in parts):
            _fail(
                400,
                "ERR_MALFORMED_REQUEST",
                "the path holds control characters (a newline, an escape); ids and names have none",
            )
        query = parse_qs(split.query, keep_blank_values=True)
        method = "GET" if self.command == "HEAD" else self.command
        app = self.server.app

        if parts == ["openapi.json"]:
            self._only(method, "GET")
            self._send(200, app.openapi())
            return
        if len(parts) >= 2 and parts[0] in _openapi.API_VERSIONS and parts[1] == "workflows":
            self._dapr(method, parts[2:], query, body)
            return
        if parts[:2] == ["wfkit", "v1"]:
            self._wfkit(method, parts[2:], query, body)
            return
        self._not_found()

    def _not_found(self) -> NoReturn:
        _fail(
            404,
            "ERR_NOT_FOUND",
            f"no route for {self.path[:200]!r}: the API is /v1.0/workflows/dapr/... "
            "(see /openapi.json)",
        )

    def _only(self, method: str, *allowed: str) -> None:
        if method not in allowed:
            allow = ", ".join([*allowed, *(["HEAD"] if "GET" in allowed else [])])
            _fail(
                405,
                "ERR_METHOD_NOT_ALLOWED",
                f"{self.command} is not allowed on {urlsplit(self.path).path}; use {allow}",
                headers={"Allow": allow},
            )

    def _dapr(self, method: str, rest: list[str], query: dict[str, list[str]], body: bytes) -> None:
        if not rest or not rest[0]:
            self._not_found()
        if rest[0] != "dapr":
            _fail(
                400,
                "ERR_WORKFLOW_COMPONENT_NOT_FOUND",
                f"no workflow component {rest[0]!r}: the built-in engine is called 'dapr'",
            )
        rest = rest[1:]
        app = self.server.app
        if len(rest) == 1 and rest[0]:
            self._only(method, "GET")
            self._send(200, app.get(rest[0], query))
        elif len(rest) == 2 and rest[0] and rest[1] == "start":
            self._only(method, "POST")
            self._send(202, app.start(rest[0], query, body))
        elif len(rest) == 2 and rest[0] and rest[1] in _COMMANDS:
            self._only(method, "POST")
            app.command(rest[1], rest[0], query, body)
            self._send(202)
        elif len(rest) in (2, 3) and rest[0] and rest[1] == "raiseEvent":
            self._only(method, "POST")
            if len(rest) == 2 or not rest[2]:
                _fail(400, "ERR_WORKFLOW_EVENT_NAME_MISSING", "the event name is empty")
            app.raise_event(rest[0], rest[2], body)
            self._send(202)
        else:
            self._not_found()

    def _wfkit(
        self, method: str, rest: list[str], query: dict[str, list[str]], body: bytes
    ) -> None:
        app = self.server.app
        if rest == ["info"]:
            self._only(method, "GET")
            self._send(200, app.info())
        elif rest == ["instances"]:
            self._only(method, "GET")
            self._send(200, app.list_instances(query))
        elif len(rest) == 3 and rest[0] == "instances" and rest[1] and rest[2] == "history":
            self._only(method, "GET")
            self._send(200, app.history(rest[1]))
        elif len(rest) == 3 and rest[0] == "instances" and rest[1] and rest[2] == "rerun":
            self._only(method, "POST")
            self._send(202, app.rerun(rest[1], body))
        else:
            self._not_found()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], app: WorkflowHTTPServer, family: int):
        self.address_family = family
        self.app = app
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn), which can stall
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed", client_address, exc_info=True)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class WorkflowHTTPServer:
    """Dapr's workflow HTTP API for one runtime, served by a background thread.

    Made by :meth:`WorkflowRuntime.serve_http`. ``url`` and ``port`` tell where it
    listens; ``shutdown()`` (or leaving a ``with`` block) stops it. See this module's
    documentation for the routes and for how status polls move a virtual clock.
    """

    def __init__(
        self,
        runtime: WorkflowRuntime,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        token: str | None = None,
        allow_remote: bool = False,
        poll_wait: float = POLL_WAIT,
        max_body_bytes: int | None = None,
        allowed_hosts: list[str] | tuple[str, ...] = (),
        stack_traces: bool = False,
        request_timeout: float = REQUEST_TIMEOUT,
    ):
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int from 0 (any free port) to 65535, not {port!r}")
        if not isinstance(host, str) or not host:
            raise ValueError(f"host must be a non-empty string, not {host!r}")
        if token is not None and (not isinstance(token, str) or not token):
            raise ValueError("token must be a non-empty string (or None for no token)")
        if (
            not isinstance(poll_wait, int | float)
            or not 0 <= poll_wait <= _openapi.MAX_WAIT_SECONDS
        ):
            raise ValueError(
                f"poll_wait must be between 0 and {_openapi.MAX_WAIT_SECONDS:g} seconds, "
                f"not {poll_wait!r}"
            )
        if (
            not isinstance(request_timeout, int | float)
            or not math.isfinite(request_timeout)
            or request_timeout <= 0
        ):
            raise ValueError(
                f"request_timeout must be a positive number of seconds, not {request_timeout!r}"
            )
        if isinstance(allowed_hosts, str):
            raise ValueError(f"allowed_hosts must be a list of host names, not {allowed_hosts!r}")
        loopback = _is_loopback(host)
        if not loopback and not allow_remote:
            raise ValueError(
                f"refusing to serve on {host!r}, which is reachable from other machines: "
                "the API can start and stop workflows. Pass allow_remote=True (and a token) "
                "to do it anyway, or keep the default host='127.0.0.1'."
            )
        if not loopback and token is None:
            import warnings

            warnings.warn(
                f"serving the workflow API on {host!r} without a token: anyone who can reach "
                "this machine can start, stop and read workflows. Pass token=...",
                WfkitWarning,
                stacklevel=3,
            )
        self.runtime = runtime
        self.token = token
        self.poll_wait = float(poll_wait)
        self.stack_traces = bool(stack_traces)
        self.request_timeout = float(request_timeout)
        Access(host, port, allowed_hosts)  # refuses bad entries before the port is taken
        limit = runtime._engine.limit
        self.max_body_bytes = (
            max_body_bytes
            if max_body_bytes is not None
            else (limit if limit is not None else _serde.DEFAULT_MAX_PAYLOAD_BYTES)
        )
        self.client = DaprWorkflowClient(runtime=runtime)
        family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        try:
            self._httpd = _Server((host.strip("[]"), port), self, family)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"cannot serve the workflow API on {host}:{port}: {exc.strerror or exc}. "
                "Pick another port, or port=0 for any free one.",
            ) from None
        self.host = host.strip("[]")
        self.port: int = self._httpd.server_port
        self.access = Access(self.host, self.port, allowed_hosts)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"wfkit-http-{self.port}",
            daemon=True,
        )
        self._closed = False
        self._thread.start()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:3500`` (the API is under ``/v1.0/...``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return not self._closed and self._thread.is_alive()

    def shutdown(self) -> None:
        """Stop serving and free the port (requests being answered finish on their own)."""
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        with _servers_lock:
            servers = _servers.get(self.runtime)
            if servers and self in servers:
                servers.remove(self)

    close = shutdown

    def __enter__(self) -> WorkflowHTTPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        state = "serving" if self.running else "stopped"
        auth = ", token" if self.token else ""
        return f"<WorkflowHTTPServer {state} at {self.url}{auth}>"

    # ------------------------------------------------------------------ operations
    def _default_wait(self) -> float:
        return self.poll_wait

    def openapi(self) -> dict[str, Any]:
        from wfkit.core._version import __version__

        return _openapi.build(
            workflows=self.runtime.workflows, token=self.token is not None, version=__version__
        )

    def start(self, name: str, query: dict[str, list[str]], body: bytes) -> dict[str, Any]:
        given = (query.get("instanceID") or query.get("instanceId") or [""])[-1]
        if given and not _INSTANCE_ID.fullmatch(given):
            _fail(
                400,
                "ERR_INSTANCE_ID_INVALID",
                f"instance id {given!r} is invalid: use 1 to 256 letters, digits, "
                "underscores and dashes",
            )
        try:
            self.runtime._registry.workflow(name)  # an unknown name is a 404 whatever the body
        except WorkflowNotRegisteredError as exc:
            raise _client_error(exc, "ERR_START_WORKFLOW") from None
        value = _parse_json(body, "the workflow input")
        try:
            instance_id = self.client.schedule_new_workflow(
                name, input=value, instance_id=given or None
            )
        except Exception as exc:
            raise _client_error(exc, "ERR_START_WORKFLOW") from None
        return {"instanceID": instance_id}

    def get(self, instance_id: str, query: dict[str, list[str]]) -> dict[str, Any]:
        wait = self._default_wait()
        if "wait" in query:
            text = query["wait"][-1]
            try:
                wait = float(text)
            except ValueError:
                wait = -1.0
            if not 0 <= wait <= _openapi.MAX_WAIT_SECONDS:  # also rejects nan
                _fail(
                    400,
                    "ERR_MALFORMED_REQUEST",
                    f"wait must be a number of seconds from 0 to "
                    f"{_openapi.MAX_WAIT_SECONDS:g}, not {text!r}",
                )
        state = self.client.get_workflow_state(instance_id)
        if (
            state is not None
            and not state.runtime_status.is_terminal
            and wait > 0
            and self.runtime.is_running
        ):
            with contextlib.suppress(TimeoutError, RuntimeNotStartedError, InstanceNotFoundError):
                self.client.wait_for_workflow_completion(
                    instance_id,
                    fetch_payloads=False,
                    timeout_in_seconds=wait,  # type: ignore[arg-type]
                )
            state = self.client.get_workflow_state(instance_id)
        if state is None:
            _fail(
                404,
                "ERR_INSTANCE_ID_NOT_FOUND",
                f"no workflow instance with id {instance_id!r} (never started, or purged)",
            )
        return instance_json(state, stack_trace=self.stack_traces)

    def raise_event(self, instance_id: str, event_name: str, body: bytes) -> None:
        value = _parse_json(body, "the event data")
        try:
            self.client.raise_workflow_event(instance_id, event_name, data=value)
        except Exception as exc:
            raise _client_error(exc, "ERR_RAISE_EVENT_WORKFLOW") from None

    def command(
        self, verb: str, instance_id: str, query: dict[str, list[str]], body: bytes
    ) -> None:
        recursive = not _flag(query, "non_recursive")
        code = f"ERR_{verb.upper()}_WORKFLOW"
        output = _parse_json(body, "the terminate output") if verb == "terminate" else None
        try:
            if verb == "terminate":
                self.client.terminate_workflow(instance_id, output=output, recursive=recursive)
            elif verb == "pause":
                self.client.pause_workflow(instance_id)
            elif verb == "resume":
                self.client.resume_workflow(instance_id)
            else:
                self.client.purge_workflow(instance_id, recursive=recursive)
        except Exception as exc:
            raise _client_error(exc, code) from None

    def info(self) -> dict[str, Any]:
        from wfkit.core._version import __version__

        return {
            "workflows": self.runtime.workflows,
            "activities": self.runtime.activities,
            "now": timestamp(self.runtime.clock.now()),
            "clock": repr(self.runtime.clock),
            "version": __version__,
        }

    def list_instances(self, query: dict[str, list[str]]) -> dict[str, Any]:
        name = (query.get("name") or [""])[-1]
        status_text = (query.get("status") or [""])[-1].strip().upper()
        status = None
        if status_text:
            try:
                status = WorkflowStatus[status_text]
            except KeyError:
                _fail(
                    400,
                    "ERR_MALFORMED_REQUEST",
                    f"unknown status {status_text!r}; one of "
                    + ", ".join(s.name for s in WorkflowStatus),
                )
        instances = []
        for instance_id in self.client.iter_workflow_instance_ids():
            state = self.client.get_workflow_state(instance_id)
            if state is None:
                continue
            if name and state.name != name:
                continue
            if status is not None and state.runtime_status is not status:
                continue
            instances.append(instance_json(state, stack_trace=self.stack_traces))
        return {"now": timestamp(self.runtime.clock.now()), "instances": instances}

    def history(self, instance_id: str) -> dict[str, Any]:
        try:
            self.client.get_workflow_history(instance_id)  # raises if there is no such instance
        except Exception as exc:
            raise _client_error(exc, "ERR_GET_WORKFLOW") from None
        stored = self.runtime.store.history(instance_id)
        return {
            "instanceID": instance_id,
            "now": timestamp(self.runtime.clock.now()),
            "events": [event_json(s, stack_trace=self.stack_traces) for s in stored],
        }

    def rerun(self, instance_id: str, body: bytes) -> dict[str, Any]:
        request = _parse_json(body, "the rerun request")
        if not isinstance(request, dict):
            _fail(
                400,
                "ERR_MALFORMED_REQUEST",
                'the rerun request must be a JSON object: {"eventId": N, "newInstanceId": '
                '"...", "input": ...}',
            )
        event_id = request.get("eventId")
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            _fail(400, "ERR_MALFORMED_REQUEST", "eventId must be an integer")
        new_id = request.get("newInstanceId")
        if new_id is not None and (
            not isinstance(new_id, str) or not _INSTANCE_ID.fullmatch(new_id)
        ):
            _fail(
                400,
                "ERR_INSTANCE_ID_INVALID",
                "newInstanceId must be 1 to 256 letters, digits, underscores and dashes",
            )
        try:
            new = self.client.rerun_workflow_from_event(
                instance_id,
                event_id,
                new_instance_id=new_id,
                input=request.get("input", UNSET),
            )
        except Exception as exc:
            raise _client_error(exc, "ERR_RERUN_WORKFLOW") from None
        return {"instanceID": new}


def serve(
    runtime: WorkflowRuntime,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    token: str | None = None,
    allow_remote: bool = False,
    poll_wait: float = POLL_WAIT,
    allowed_hosts: list[str] | tuple[str, ...] = (),
    stack_traces: bool = False,
    request_timeout: float = REQUEST_TIMEOUT,
) -> WorkflowHTTPServer:
    """Serve ``runtime``; a server this runtime already runs on the same host and port is
    stopped first (re-running a notebook cell replaces its server instead of failing)."""
    with _servers_lock:
        previous = [
            s
            for s in _servers.get(runtime, [])
            if port and s.port == port and s.host == host.strip("[]")
        ]
    for server in previous:
        server.shutdown()
    server = WorkflowHTTPServer(
        runtime,
        port=port,
        host=host,
        token=token,
        allow_remote=allow_remote,
        poll_wait=poll_wait,
        allowed_hosts=allowed_hosts,
        stack_traces=stack_traces,
        request_timeout=request_timeout,
    )
    with _servers_lock:
        _servers.setdefault(runtime, []).append(server)
    return server


def servers(runtime: WorkflowRuntime) -> list[WorkflowHTTPServer]:
    """The servers running for ``runtime``."""
    with _servers_lock:
        return [s for s in _servers.get(runtime, []) if s.running]
