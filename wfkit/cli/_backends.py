"""Where the command line reads and acts: a runtime's HTTP endpoint (``--url``) or a
DuckDB store file (``--db``). Both hand back the JSON shapes of :mod:`wfkit.inspect._views`."""

from __future__ import annotations

import ipaddress
import json
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

from wfkit.cli._errors import CliError
from wfkit.inspect._views import event_json, instance_json, timestamp

if TYPE_CHECKING:  # loaded late: reads over --url need neither the runtime nor DuckDB
    from wfkit.runtime._client import DaprWorkflowClient
    from wfkit.runtime._runtime import WorkflowRuntime
    from wfkit.store import DuckDBStore

TERMINAL = {"COMPLETED", "FAILED", "TERMINATED"}


class Backend(Protocol):
    where: str

    def instances(
        self, name: str | None, status: str | None
    ) -> tuple[str | None, list[dict[str, Any]]]: ...

    def status(self, instance_id: str) -> dict[str, Any]: ...

    def history(self, instance_id: str) -> tuple[str | None, list[dict[str, Any]]]: ...

    def raise_event(self, instance_id: str, event_name: str, data: str | None) -> None: ...

    def command(self, verb: str, instance_id: str, body: str | None = None) -> None: ...

    def rerun(self, instance_id: str, request: dict[str, Any]) -> str: ...

    def start(self, workflow: str, data: str | None, instance_id: str | None) -> str: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- HTTP
def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpBackend:
    """A runtime served with ``wfr.serve_http()`` or ``wfkit serve``."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30.0):
        try:
            split = urlsplit(url if "://" in url else "http://" + url)
        except ValueError as exc:  # e.g. an unclosed [ of an IPv6 address
            raise CliError(
                f"--url is not a valid URL ({exc}): {url!r}; e.g. http://127.0.0.1:3500 or "
                "http://[::1]:3500",
                code=2,
            ) from None
        if split.scheme not in ("http", "https") or not split.hostname:
            raise CliError(
                f"--url must be an http(s) URL such as http://127.0.0.1:3500, not {url!r}", code=2
            )
        try:
            split.port  # noqa: B018 - validates the port
        except ValueError:
            raise CliError(f"--url has a bad port: {url!r}", code=2) from None
        self.base = f"{split.scheme}://{split.netloc}{split.path.rstrip('/')}"
        self.where = self.base
        self.token = token
        self.timeout = timeout
        handlers: list[Any] = []
        if _loopback(split.hostname):  # a local endpoint never goes through a proxy
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: str | bytes | None = None,
        query: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        url = self.base + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = body.encode("utf-8") if isinstance(body, str) else body
        if method == "POST" and data is None:
            data = b""
        request = urllib.request.Request(url, data=data, method=method)
        if data:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("dapr-api-token", self.token)
        try:
            with self._opener.open(request, timeout=timeout or self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, method, path) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                reason = "connection refused"
            raise CliError(
                f"cannot reach {self.base} ({reason}). Is the runtime serving its API? In the "
                "notebook: wfr.serve_http(port=3500); from a shell: wfkit serve app.py"
            ) from None
        except TimeoutError:
            raise CliError(
                f"{self.base} did not answer within {timeout or self.timeout:g} s"
            ) from None
        except OSError as exc:
            raise CliError(f"talking to {self.base} failed: {exc}") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise CliError(
                f"{self.base} answered {method} {path} with something not JSON"
            ) from None

    def _http_error(self, exc: urllib.error.HTTPError, method: str, path: str) -> CliError:
        try:
            payload = json.loads(exc.read() or b"null")
        except (ValueError, OSError):
            payload = None
        if isinstance(payload, dict) and "message" in payload:
            message = str(payload["message"])
            code = str(payload.get("errorCode", ""))
        else:
            message, code = exc.reason or "error", ""
        if exc.code == 401:
            return CliError(
                f"{self.base} refused the request: {message}. Pass the server's token with "
                "--token (or set WFKIT_TOKEN)"
            )
        if exc.code == 404 and code in ("", "ERR_NOT_FOUND") and path.startswith("/wfkit/"):
            return CliError(
                f"{self.base} does not serve wfkit's routes ({method} {path}): is it a Dapr "
                "sidecar? list, history and rerun need a wfkit runtime's server"
            )
        suffix = f" [{exc.code} {code}]" if code else f" [{exc.code}]"
        return CliError(message + suffix)

    def instances(
        self, name: str | None, status: str | None
    ) -> tuple[str | None, list[dict[str, Any]]]:
        reply = self._call("GET", "/wfkit/v1/instances", query={"name": name, "status": status})
        return reply.get("now"), list(reply.get("instances", []))

    def status(self, instance_id: str, *, wait: float = 0.0) -> dict[str, Any]:
        reply: dict[str, Any] = self._call(
            "GET",
            f"/v1.0/workflows/dapr/{quote(instance_id, safe='')}",
            query={"wait": f"{wait:g}"},
            timeout=self.timeout + wait,
        )
        return reply

    def history(self, instance_id: str) -> tuple[str | None, list[dict[str, Any]]]:
        reply = self._call("GET", f"/wfkit/v1/instances/{quote(instance_id, safe='')}/history")
        return reply.get("now"), list(reply.get("events", []))

    def raise_event(self, instance_id: str, event_name: str, data: str | None) -> None:
        path = (
            f"/v1.0/workflows/dapr/{quote(instance_id, safe='')}/raiseEvent/"
            f"{quote(event_name, safe='')}"
        )
        self._call("POST", path, body=data)

    def command(self, verb: str, instance_id: str, body: str | None = None) -> None:
        self._call("POST", f"/v1.0/workflows/dapr/{quote(instance_id, safe='')}/{verb}", body=body)

    def rerun(self, instance_id: str, request: dict[str, Any]) -> str:
        reply = self._call(
            "POST",
            f"/wfkit/v1/instances/{quote(instance_id, safe='')}/rerun",
            body=json.dumps(request),
        )
        return str(reply["instanceID"])

    def start(self, workflow: str, data: str | None, instance_id: str | None) -> str:
        reply = self._call(
            "POST",
            f"/v1.0/workflows/dapr/{quote(workflow, safe='')}/start",
            body=data,
            query={"instanceID": instance_id},
        )
        return str(reply["instanceID"])

    def wait(self, instance_id: str, timeout: float) -> dict[str, Any]:
        """Poll until the instance finishes (each poll lets the server's clock skip)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            state = self.status(instance_id, wait=max(0.0, min(5.0, remaining)))
            if state.get("runtimeStatus") in TERMINAL or remaining <= 0:
                return state

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- DuckDB file
def _duckdb_store() -> type[DuckDBStore]:
    try:
        from wfkit.store import DuckDBStore
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise CliError(
            f"--db needs wfkit's DuckDB store, which cannot be loaded here ({exc}); use --url"
        ) from None
    return DuckDBStore


class DbBackend:
    """A DuckDB store file. Reads open it read-only (a snapshot when another process writes
    it); purging a finished instance opens it for writing, which only works while no other
    process holds it. Other changes need the workflow code: they go through --url."""

    def __init__(self, path: str):
        self.path = Path(path).expanduser()
        self.where = str(self.path)
        if not self.path.is_file():
            raise CliError(f"no store file at {str(self.path)!r}", code=2)

    def _open(self, *, read_only: bool) -> tuple[WorkflowRuntime, DaprWorkflowClient]:
        from wfkit.core._errors import StoreError, StoreFormatError, StoreLockedError
        from wfkit.runtime._client import DaprWorkflowClient
        from wfkit.runtime._runtime import WorkflowRuntime

        DuckDBStore = _duckdb_store()
        try:
            store = DuckDBStore(self.path, read_only=read_only)
        except StoreLockedError:
            raise CliError(
                f"{str(self.path)!r} is open for writing in another process (a notebook, or "
                "wfkit serve): changes must go through that process. Serve its runtime over "
                "HTTP (in the notebook: wfr.serve_http(port=3500)) and run this command with "
                "--url http://127.0.0.1:3500"
            ) from None
        except StoreFormatError as exc:  # not a wfkit store, damaged, or too new
            raise CliError(str(exc), code=2) from None
        except (StoreError, OSError) as exc:
            raise CliError(str(exc)) from None
        with warnings.catch_warnings():  # about instances this code cannot resume: none run
            warnings.simplefilter("ignore")
            runtime = WorkflowRuntime(store=store)
        return runtime, DaprWorkflowClient(runtime)

    def _read(self) -> tuple[WorkflowRuntime, DaprWorkflowClient]:
        return self._open(read_only=True)

    @staticmethod
    def _now(runtime: WorkflowRuntime, states: list[dict[str, Any]] | None = None) -> str | None:
        when = runtime.store.clock_time()
        if when is not None:
            return timestamp(when)
        if states:
            return max(s["lastUpdatedAt"] for s in states)
        return None

    def instances(
        self, name: str | None, status: str | None
    ) -> tuple[str | None, list[dict[str, Any]]]:
        runtime, client = self._read()
        try:
            out = []
            for instance_id in client.iter_workflow_instance_ids():
                state = client.get_workflow_state(instance_id)
                if state is None:
                    continue
                if name and state.name != name:
                    continue
                if status and state.runtime_status.name != status:
                    continue
                out.append(instance_json(state))
            return self._now(runtime, out), out
        finally:
            runtime.store.close()

    def status(self, instance_id: str, *, wait: float = 0.0) -> dict[str, Any]:
        runtime, client = self._read()
        try:
            state = client.get_workflow_state(instance_id)
            if state is None:
                raise CliError(f"no workflow instance {instance_id!r} in {self.where}")
            return instance_json(state)
        finally:
            runtime.store.close()

    def history(self, instance_id: str) -> tuple[str | None, list[dict[str, Any]]]:
        runtime, client = self._read()
        try:
            if client.get_workflow_state(instance_id) is None:
                raise CliError(f"no workflow instance {instance_id!r} in {self.where}")
            events = [event_json(s) for s in runtime.store.history(instance_id)]
            return self._now(runtime), events
        finally:
            runtime.store.close()

    def _needs_code(self, what: str) -> CliError:
        # opening for writing first tells a held file (the usual case) from a free one
        runtime, _client = self._open(read_only=False)
        runtime.store.close()
        return CliError(
            f"{what} needs the workflow code running, which a store file alone does not have. "
            f"Serve it over HTTP (wfkit serve app.py, or wfr.serve_http() in the notebook "
            "that owns the file) and run this command with --url"
        )

    def raise_event(self, instance_id: str, event_name: str, data: str | None) -> None:
        raise self._needs_code("raising an event")

    def command(self, verb: str, instance_id: str, body: str | None = None) -> None:
        if verb != "purge":
            raise self._needs_code({"pause": "suspending"}.get(verb, verb.rstrip("e") + "ing"))
        runtime, client = self._open(read_only=False)
        try:
            state = client.get_workflow_state(instance_id)
            if state is None:
                raise CliError(f"no workflow instance {instance_id!r} in {self.where}")
            if not state.runtime_status.is_terminal:
                raise CliError(
                    f"cannot purge {instance_id!r}: it is {state.runtime_status.name}; only "
                    "finished instances can be purged (terminate it first, with --url)"
                )
            with warnings.catch_warnings():  # unfinished instances whose code is not here
                warnings.simplefilter("ignore")
                client.purge_workflow(instance_id)
        finally:
            runtime.store.close()

    def rerun(self, instance_id: str, request: dict[str, Any]) -> str:
        raise self._needs_code("rerunning")

    def start(self, workflow: str, data: str | None, instance_id: str | None) -> str:
        raise self._needs_code("starting a workflow")

    def close(self) -> None:
        pass
