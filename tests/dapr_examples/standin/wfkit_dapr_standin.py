"""A local stand-in for the parts of Dapr's client that example programs call besides
workflows: a state store, service invocation and pub/sub that record what they are asked
(in this process), ``raise_workflow_event`` routed to the workflow client, and Dapr's
settings. It stands for ``dapr.clients``, ``dapr.clients.exceptions`` and ``dapr.conf``.
"""

from __future__ import annotations

import json
import threading
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
    """What Dapr's client returns: ``data`` bytes, ``text()``, ``json()``."""

    def __init__(self, data: bytes = b"", etag: str = ""):
        self.data = data
        self.etag = etag

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

    # pub/sub and service invocation have no subscriber or app here: recorded, answered empty
    def publish_event(
        self, pubsub_name: str, topic_name: str, data: Any, **kwargs: Any
    ) -> Response:
        with _lock:
            published.append((pubsub_name, topic_name, data))
        return Response()

    def invoke_method(
        self, app_id: str, method_name: str = "", data: Any = "", **kwargs: Any
    ) -> Response:
        raise DaprInternalError(
            f"service invocation of {app_id!r}/{method_name!r} needs that app running with "
            "Dapr; the example stand-in serves workflows only"
        )

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
