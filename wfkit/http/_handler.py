"""The request handler of the HTTP API: reading a request within its deadline, the checks
every request passes, and routing to the operations of :mod:`wfkit.http._operations`."""

from __future__ import annotations

import hmac
import io
import json
import logging
import re
import socket
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

from wfkit.http import _openapi
from wfkit.http._access import Refused
from wfkit.http._request import SOCKET_TIMEOUT, Query, Reply, fail

if TYPE_CHECKING:
    from wfkit.http._server import HTTPDaemon

log = logging.getLogger("wfkit.http")

# Ids and names in a path: anything a client may have created, but no control characters
# (a trailing newline, an escape sequence), which no id or name needs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_COMMANDS = {"terminate", "pause", "resume", "purge"}


class DeadlineReader(io.RawIOBase):
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


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wfkit"
    sys_version = ""
    timeout = SOCKET_TIMEOUT
    server: HTTPDaemon

    # Every method goes through one dispatcher, so an unknown one gets a 405 (not 501).
    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self._reader = DeadlineReader(self.connection, self.timeout)
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
        except Reply as reply:
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
            fail(
                411,
                "ERR_LENGTH_REQUIRED",
                "send the body with a Content-Length (chunked bodies are not accepted)",
                close=True,
            )
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return b""
        if len(set(lengths)) > 1 or not lengths[0].strip().isdigit():
            fail(400, "ERR_MALFORMED_REQUEST", "bad Content-Length header", close=True)
        length = int(lengths[0])
        limit = self.server.app.max_body_bytes
        if length > limit:
            fail(
                413,
                "ERR_BODY_TOO_LARGE",
                f"the body is {length:,} bytes, over the runtime's payload limit of "
                f"{limit:,} bytes",
                close=True,
            )
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            fail(408, "ERR_REQUEST_TIMEOUT", "the body did not arrive in time", close=True)
        if len(body) < length:
            fail(
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
            fail(refused.status, refused.code, refused.message, close=True)
        if not self._authorized():
            fail(
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
            fail(
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
        fail(
            404,
            "ERR_NOT_FOUND",
            f"no route for {self.path[:200]!r}: the API is /v1.0/workflows/dapr/... "
            "(see /openapi.json)",
        )

    def _only(self, method: str, *allowed: str) -> None:
        if method not in allowed:
            allow = ", ".join([*allowed, *(["HEAD"] if "GET" in allowed else [])])
            fail(
                405,
                "ERR_METHOD_NOT_ALLOWED",
                f"{self.command} is not allowed on {urlsplit(self.path).path}; use {allow}",
                headers={"Allow": allow},
            )

    def _dapr(self, method: str, rest: list[str], query: Query, body: bytes) -> None:
        if not rest or not rest[0]:
            self._not_found()
        if rest[0] != "dapr":
            fail(
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
                fail(400, "ERR_WORKFLOW_EVENT_NAME_MISSING", "the event name is empty")
            app.raise_event(rest[0], rest[2], body)
            self._send(202)
        else:
            self._not_found()

    def _wfkit(self, method: str, rest: list[str], query: Query, body: bytes) -> None:
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
