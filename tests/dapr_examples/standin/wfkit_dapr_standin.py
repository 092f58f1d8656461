"""A local stand-in for the parts of Dapr's client that example programs call besides
workflows: a state store (in this process), service invocation and pub/sub delivered over
HTTP to the other apps of the run, ``raise_workflow_event`` routed to the workflow
client, and Dapr's settings. It stands for ``dapr.clients``, ``dapr.clients.exceptions`` and ``dapr.conf``.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from typing import Any

import wfkit

_lock = threading.Lock()
_state: dict[tuple[str, str], bytes] = {}
published: list[tuple[str, str, Any]] = []


class DaprInternalError(Exception):
    def __init__(self, message: str = "", error_code: str | None = None):
        super().__init__(message)
        self._message = message
        self._error_code = error_code


class Settings:
    DAPR_RUNTIME_HOST = "127.0.0.1"
    DAPR_GRPC_PORT = 50001
    DAPR_HTTP_PORT = 3500
    DAPR_API_TOKEN = None


settings = Settings()


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


class Response:
    """What Dapr's client returns: ``data`` bytes, ``text()``, ``json()``, and for service
    invocation the HTTP ``status_code``."""

    def __init__(self, data: bytes = b"", etag: str = "", status_code: int = 200):
        self.data = data
        self.etag = etag
        self.status_code = status_code

    def text(self) -> str:
        return self.data.decode()

    def json(self) -> Any:
        return json.loads(self.data)


class DaprClient:
    def __init__(self, address: str | None = None, *args: Any, **kwargs: Any):
        self.address = address

    def __enter__(self) -> DaprClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        return None

    # state store
    def save_state(self, store_name: str, key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        with _lock:
            _state[(store_name, key)] = _bytes(value)

    def get_state(self, store_name: str, key: str, *args: Any, **kwargs: Any) -> Response:
        with _lock:
            return Response(_state.get((store_name, key), b""))

    def delete_state(self, store_name: str, key: str, *args: Any, **kwargs: Any) -> None:
        with _lock:
            _state.pop((store_name, key), None)

    # service invocation and pub/sub reach the other apps of the run over HTTP, as
    # Dapr's sidecars would (the harness says where they listen and what they subscribe to)
    def invoke_method(
        self,
        app_id: str,
        method_name: str = "",
        data: Any = "",
        content_type: str | None = None,
        metadata: Any = None,
        http_verb: str | None = None,
        **kwargs: Any,
    ) -> Response:
        port = _apps().get(app_id)
        if port is None:
            raise DaprInternalError(f"no app {app_id!r} runs beside this one")
        return _http(port, method_name, _bytes(data), http_verb or "POST", content_type)

    def publish_event(
        self, pubsub_name: str, topic_name: str, data: Any, **kwargs: Any
    ) -> Response:
        with _lock:
            published.append((pubsub_name, topic_name, data))
        event = json.dumps({"data": _json_or_text(data), "topic": topic_name}).encode()
        for sub in json.loads(os.environ.get("WFKIT_STANDIN_SUBSCRIPTIONS", "[]")):
            if (sub["pubsub"], sub["topic"]) != (pubsub_name, topic_name):
                continue
            for app_id in sub["scopes"] or list(_apps()):
                port = _apps().get(app_id)
                if port is not None:  # delivered in the background, as a broker would
                    threading.Thread(
                        target=_http,
                        args=(port, sub["route"], event, "POST", "application/cloudevents+json"),
                        daemon=True,
                    ).start()
        return Response()

    # workflows, through wfkit's client
    def raise_workflow_event(
        self,
        instance_id: str,
        workflow_component: str,
        event_name: str,
        event_data: Any = None,
        **kwargs: Any,
    ) -> None:
        wfkit.DaprWorkflowClient().raise_workflow_event(instance_id, event_name, data=event_data)


def _apps() -> dict[str, int]:
    return {k: int(v) for k, v in json.loads(os.environ.get("WFKIT_STANDIN_APPS", "{}")).items()}


def _json_or_text(data: Any) -> Any:
    try:
        return json.loads(data) if isinstance(data, (str, bytes)) else data
    except ValueError:
        return data


def _http(port: int, path: str, body: bytes, verb: str, content_type: str | None) -> Response:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/{path.lstrip('/')}",
        data=body if verb != "GET" else None,
        method=verb,
        headers={"content-type": content_type or "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Response(answer.read(), status_code=answer.status)
    except urllib.error.HTTPError as err:
        return Response(err.read(), status_code=err.code)


def serve_http_on_start(port: str | None) -> None:
    """Stand in for ``dapr run``'s sidecar: serve Dapr's workflow HTTP API on ``port``
    once a runtime starts."""
    if not port:
        return
    start = wfkit.WorkflowRuntime.start

    def start_and_serve(self: wfkit.WorkflowRuntime, *args: Any, **kwargs: Any) -> Any:
        result = start(self, *args, **kwargs)
        self.serve_http(int(port))
        return result

    wfkit.WorkflowRuntime.start = start_and_serve  # type: ignore[method-assign]
