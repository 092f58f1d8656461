"""What the HTTP API's handlers share: error answers, and the parsing of a request's body
and query (see :mod:`wfkit.http._server` for the routes)."""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from wfkit.core._errors import (
    InstanceExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
    PayloadTooLargeError,
    RuntimeNotStartedError,
    SerializationError,
    StoreError,
    WorkflowNotRegisteredError,
)
from wfkit.http import _openapi

#: Default wall seconds a status poll waits on an unfinished instance (auto-skip clocks).
POLL_WAIT = 0.0
#: Seconds a connection may stall (reading a request line, headers or body) before it is
#: dropped; also how long an idle keep-alive connection is kept.
SOCKET_TIMEOUT = 10.0
#: Default seconds in which a whole request must arrive (from the connection, or the end
#: of the previous answer on a kept-alive one).
REQUEST_TIMEOUT = 10.0

INSTANCE_ID = re.compile(_openapi.INSTANCE_ID_PATTERN)
Query = dict[str, list[str]]


class Reply(Exception):
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


def fail(status: int, code: str, message: str, **kw: Any) -> NoReturn:
    raise Reply(status, code, message, **kw)


def client_error(exc: Exception, op_code: str) -> Reply:
    """The HTTP answer for an error a client call raised."""
    if isinstance(exc, WorkflowNotRegisteredError):
        return Reply(404, "ERR_WORKFLOW_NOT_FOUND", str(exc))
    if isinstance(exc, InstanceNotFoundError):
        return Reply(404, "ERR_INSTANCE_ID_NOT_FOUND", str(exc))
    if isinstance(exc, InstanceExistsError | InvalidInstanceStateError):
        return Reply(409, op_code, str(exc))
    if isinstance(exc, PayloadTooLargeError):
        return Reply(413, "ERR_PAYLOAD_TOO_LARGE", str(exc))
    if isinstance(exc, SerializationError):
        return Reply(400, "ERR_MALFORMED_REQUEST_DATA", str(exc))
    if isinstance(exc, StoreError):
        return Reply(409, "ERR_STORE", str(exc))
    if isinstance(exc, RuntimeNotStartedError):
        return Reply(503, "ERR_WORKFLOW_RUNTIME_NOT_STARTED", str(exc))
    if isinstance(exc, ValueError | TypeError | RecursionError):
        return Reply(400, op_code, str(exc) or type(exc).__name__)
    raise exc


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes, what: str) -> Any:
    """The JSON value of a body; an empty body is None (no input, no data)."""
    if not body.strip():
        return None
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        fail(400, "ERR_MALFORMED_REQUEST", f"{what} is not UTF-8 text")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        fail(
            400,
            "ERR_MALFORMED_REQUEST",
            f'{what} is not valid JSON ({exc}); send JSON, e.g. {{"amount": 5}}, or a '
            'quoted string: "text"',
        )


def flag(query: Query, name: str) -> bool:
    values = query.get(name)
    if not values:
        return False
    value = values[-1].strip().lower()
    if value in ("", "true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    fail(400, "ERR_MALFORMED_REQUEST", f"{name} must be true or false, not {values[-1]!r}")
