"""The operations of the HTTP API, each one call of the runtime's client: what a route
does once :mod:`wfkit.http._handler` has parsed and checked its request."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from wfkit.core._errors import (
    InstanceNotFoundError,
    RuntimeNotStartedError,
    WorkflowNotRegisteredError,
)
from wfkit.core._state import UNSET, WorkflowStatus
from wfkit.http import _openapi
from wfkit.http._request import INSTANCE_ID, Query, client_error, fail, flag, parse_json
from wfkit.inspect._views import event_json, instance_json, timestamp
from wfkit.runtime._seam import engine_of

if TYPE_CHECKING:
    from wfkit.runtime._client import DaprWorkflowClient
    from wfkit.runtime._runtime import WorkflowRuntime


class WorkflowOperations:
    """The answers of the API's routes, for :class:`~wfkit.http._server.WorkflowHTTPServer`
    (which sets these attributes)."""

    runtime: WorkflowRuntime
    client: DaprWorkflowClient
    token: str | None
    poll_wait: float
    stack_traces: bool

    def _default_wait(self) -> float:
        return self.poll_wait

    def openapi(self) -> dict[str, Any]:
        from wfkit.core._version import __version__

        return _openapi.build(
            workflows=self.runtime.workflows, token=self.token is not None, version=__version__
        )

    def start(self, name: str, query: Query, body: bytes) -> dict[str, Any]:
        given = (query.get("instanceID") or query.get("instanceId") or [""])[-1]
        if given and not INSTANCE_ID.fullmatch(given):
            fail(
                400,
                "ERR_INSTANCE_ID_INVALID",
                f"instance id {given!r} is invalid: use 1 to 256 letters, digits, "
                "underscores and dashes",
            )
        try:
            engine_of(self.runtime).registry.workflow(
                name
            )  # an unknown name is a 404 whatever the body
        except WorkflowNotRegisteredError as exc:
            raise client_error(exc, "ERR_START_WORKFLOW") from None
        value = parse_json(body, "the workflow input")
        try:
            instance_id = self.client.schedule_new_workflow(
                name, input=value, instance_id=given or None
            )
        except Exception as exc:
            raise client_error(exc, "ERR_START_WORKFLOW") from None
        return {"instanceID": instance_id}

    def get(self, instance_id: str, query: Query) -> dict[str, Any]:
        wait = self._default_wait()
        if "wait" in query:
            text = query["wait"][-1]
            try:
                wait = float(text)
            except ValueError:
                wait = -1.0
            if not 0 <= wait <= _openapi.MAX_WAIT_SECONDS:  # also rejects nan
                fail(
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
            fail(
                404,
                "ERR_INSTANCE_ID_NOT_FOUND",
                f"no workflow instance with id {instance_id!r} (never started, or purged)",
            )
        return instance_json(state, stack_trace=self.stack_traces)

    def raise_event(self, instance_id: str, event_name: str, body: bytes) -> None:
        value = parse_json(body, "the event data")
        try:
            self.client.raise_workflow_event(instance_id, event_name, data=value)
        except Exception as exc:
            raise client_error(exc, "ERR_RAISE_EVENT_WORKFLOW") from None

    def command(self, verb: str, instance_id: str, query: Query, body: bytes) -> None:
        recursive = not flag(query, "non_recursive")
        code = f"ERR_{verb.upper()}_WORKFLOW"
        output = parse_json(body, "the terminate output") if verb == "terminate" else None
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
            raise client_error(exc, code) from None

    def info(self) -> dict[str, Any]:
        from wfkit.core._version import __version__

        return {
            "workflows": self.runtime.workflows,
            "activities": self.runtime.activities,
            "now": timestamp(self.runtime.clock.now()),
            "clock": repr(self.runtime.clock),
            "version": __version__,
        }

    def list_instances(self, query: Query) -> dict[str, Any]:
        name = (query.get("name") or [""])[-1]
        status_text = (query.get("status") or [""])[-1].strip().upper()
        status = None
        if status_text:
            try:
                status = WorkflowStatus[status_text]
            except KeyError:
                fail(
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
            raise client_error(exc, "ERR_GET_WORKFLOW") from None
        stored = self.runtime.store.history(instance_id)
        return {
            "instanceID": instance_id,
            "now": timestamp(self.runtime.clock.now()),
            "events": [event_json(s, stack_trace=self.stack_traces) for s in stored],
        }

    def rerun(self, instance_id: str, body: bytes) -> dict[str, Any]:
        request = parse_json(body, "the rerun request")
        if not isinstance(request, dict):
            fail(
                400,
                "ERR_MALFORMED_REQUEST",
                'the rerun request must be a JSON object: {"eventId": N, "newInstanceId": '
                '"...", "input": ...}',
            )
        event_id = request.get("eventId")
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            fail(400, "ERR_MALFORMED_REQUEST", "eventId must be an integer")
        new_id = request.get("newInstanceId")
        if new_id is not None and (
            not isinstance(new_id, str) or not INSTANCE_ID.fullmatch(new_id)
        ):
            fail(
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
            raise client_error(exc, "ERR_RERUN_WORKFLOW") from None
        return {"instanceID": new}
