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

import ipaddress
import logging
import math
import socket
import socketserver
import threading
import warnings
import weakref
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from wfkit.core import _serde
from wfkit.core._errors import WfkitWarning
from wfkit.http import _openapi
from wfkit.http._access import Access
from wfkit.http._handler import RequestHandler
from wfkit.http._operations import WorkflowOperations
from wfkit.http._request import POLL_WAIT, REQUEST_TIMEOUT, SOCKET_TIMEOUT
from wfkit.runtime._client import DaprWorkflowClient
from wfkit.runtime._seam import local_engine_of

if TYPE_CHECKING:
    from wfkit.runtime._runtime import WorkflowRuntime

__all__ = [
    "POLL_WAIT",
    "REQUEST_TIMEOUT",
    "SOCKET_TIMEOUT",
    "RequestHandler",
    "WorkflowHTTPServer",
    "serve",
    "servers",
]

log = logging.getLogger("wfkit.http")

_servers: weakref.WeakKeyDictionary[Any, list[WorkflowHTTPServer]] = weakref.WeakKeyDictionary()
_servers_lock = threading.Lock()


class HTTPDaemon(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], app: WorkflowHTTPServer, family: int):
        self.address_family = family
        self.app = app
        super().__init__(address, RequestHandler)

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


def _check_arguments(
    port: Any,
    host: Any,
    token: Any,
    poll_wait: Any,
    request_timeout: Any,
    allowed_hosts: Any,
) -> None:
    """Refuse arguments :class:`WorkflowHTTPServer` cannot serve with, saying which."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an int from 0 (any free port) to 65535, not {port!r}")
    if not isinstance(host, str) or not host:
        raise ValueError(f"host must be a non-empty string, not {host!r}")
    if token is not None and (not isinstance(token, str) or not token):
        raise ValueError("token must be a non-empty string (or None for no token)")
    if not isinstance(poll_wait, int | float) or not 0 <= poll_wait <= _openapi.MAX_WAIT_SECONDS:
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


def _check_exposure(host: str, token: str | None, allow_remote: bool) -> None:
    """Refuse a host other machines reach unless asked to; warn when it has no token."""
    if _is_loopback(host):
        return
    if not allow_remote:
        raise ValueError(
            f"refusing to serve on {host!r}, which is reachable from other machines: "
            "the API can start and stop workflows. Pass allow_remote=True (and a token) "
            "to do it anyway, or keep the default host='127.0.0.1'."
        )
    if token is None:
        warnings.warn(
            f"serving the workflow API on {host!r} without a token: anyone who can reach "
            "this machine can start, stop and read workflows. Pass token=...",
            WfkitWarning,
            stacklevel=4,
        )


def _bind(host: str, port: int, app: WorkflowHTTPServer) -> HTTPDaemon:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return HTTPDaemon((host, port), app, family)
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot serve the workflow API on {host}:{port}: {exc.strerror or exc}. "
            "Pick another port, or port=0 for any free one.",
        ) from None


class WorkflowHTTPServer(WorkflowOperations):
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
        _check_arguments(port, host, token, poll_wait, request_timeout, allowed_hosts)
        _check_exposure(host, token, allow_remote)
        self.runtime = runtime
        self.token = token
        self.poll_wait = float(poll_wait)
        self.stack_traces = bool(stack_traces)
        self.request_timeout = float(request_timeout)
        Access(host, port, allowed_hosts)  # refuses bad entries before the port is taken
        limit = local_engine_of(runtime, doing="serving the workflow HTTP API").limit
        self.max_body_bytes = (
            max_body_bytes
            if max_body_bytes is not None
            else (limit if limit is not None else _serde.DEFAULT_MAX_PAYLOAD_BYTES)
        )
        self.client = DaprWorkflowClient(runtime=runtime)
        self.host = host.strip("[]")
        self._httpd = _bind(self.host, port, self)
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
