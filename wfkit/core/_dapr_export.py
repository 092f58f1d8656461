"""wfkit events as Dapr's ``HistoryEvent`` JSON objects and protobuf messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from wfkit.core._dapr_format import (
    STATUS_JSON,
    TIMER_ORIGINS,
    protos_and_json_format,
    timestamp_json,
)
from wfkit.core._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceCreated,
    ChildWorkflowInstanceFailed,
    EventRaised,
    ExecutionCompleted,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    FailureDetails,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
    WorkflowStarted,
)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless ``value`` is what protobuf's JSON leaves out."""
    if value is None or value is False:
        return
    # proto3 leaves out zeros and empty strings; StringValue wrappers keep an empty string
    if value in (0, "") and key not in ("input", "result"):
        return
    target[key] = value


def _failure_json(failure: FailureDetails) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "errorType", failure.error_type)
    _put(out, "errorMessage", failure.message)
    if failure.stack_trace is not None:
        out["stackTrace"] = failure.stack_trace
    return out


def _event_json(event: HistoryEvent, instance_id: str | None) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    _put(out, "eventId", event.event_id)
    out["timestamp"] = timestamp_json(event.timestamp)
    keyed = _instance_event_body(event, instance_id) or _task_event_body(event, out)
    if keyed is None:
        return None
    key, body = keyed
    out[key] = body
    return out


def _instance_event_body(
    event: HistoryEvent, instance_id: str | None
) -> tuple[str, dict[str, Any]] | None:
    """(the oneof field, its body) of an event of the instance's own lifecycle."""
    body: dict[str, Any] = {}
    match event:
        case ExecutionStarted():
            key = "executionStarted"
            _put(body, "name", event.workflow_name)
            _put(body, "input", event.input)
            if instance_id:
                body["workflowInstance"] = {"instanceId": instance_id}
            if event.parent_instance_id is not None:
                parent: dict[str, Any] = {}
                _put(parent, "taskScheduledId", event.parent_task_id)
                parent["workflowInstance"] = {"instanceId": event.parent_instance_id}
                body["parentInstance"] = parent
        case WorkflowStarted():
            key = "workflowStarted"
            if event.version_name or event.patches:
                version: dict[str, Any] = {}
                if event.patches:
                    version["patches"] = list(event.patches)
                _put(version, "name", event.version_name)
                body["version"] = version
        case ExecutionSuspended():
            key = "executionSuspended"
            _put(body, "input", event.reason)
        case ExecutionResumed():
            key = "executionResumed"
            _put(body, "input", event.reason)
        case ExecutionTerminated():
            key = "executionTerminated"
            _put(body, "input", event.output)
            _put(body, "recurse", event.recursive)
        case ExecutionCompleted():
            key = "executionCompleted"
            body["workflowStatus"] = STATUS_JSON.get(event.status, "ORCHESTRATION_STATUS_COMPLETED")
            _put(body, "result", event.result)
            if event.failure is not None:
                body["failureDetails"] = _failure_json(event.failure)
        case _:
            return None
    return key, body


def _task_event_body(event: HistoryEvent, out: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(the oneof field, its body) of an event of a task, a timer or an external event;
    a call to another app adds its ``router`` to ``out``."""
    body: dict[str, Any] = {}
    match event:
        case TaskScheduled():
            key = "taskScheduled"
            _put(body, "name", event.activity_name)
            _put(body, "input", event.input)
            _put(body, "taskExecutionId", event.task_execution_id)
            if event.app_id:
                out["router"] = {"targetAppID": event.app_id}
        case TaskCompleted():
            key = "taskCompleted"
            _put(body, "taskScheduledId", event.task_scheduled_id)
            _put(body, "result", event.result)
        case TaskFailed():
            key = "taskFailed"
            _put(body, "taskScheduledId", event.task_scheduled_id)
            body["failureDetails"] = _failure_json(event.failure)
        case TimerCreated():
            key = "timerCreated"
            body["fireAt"] = timestamp_json(event.fire_at)
            origin = TIMER_ORIGINS.get(event.origin)
            if origin == "externalEvent":
                body[origin] = {"name": event.origin_name} if event.origin_name else {}
            else:
                _put(body, "name", event.origin_name)
                if origin is not None:
                    body[origin] = {}
        case TimerFired():
            key = "timerFired"
            body["fireAt"] = timestamp_json(event.fire_at)
            _put(body, "timerId", event.timer_id)
        case EventRaised():
            key = "eventRaised"
            _put(body, "name", event.event_name)
            _put(body, "input", event.input)
        case ChildWorkflowInstanceCreated():
            key = "childWorkflowInstanceCreated"
            _put(body, "instanceId", event.instance_id)
            _put(body, "name", event.workflow_name)
            _put(body, "input", event.input)
            if event.app_id:
                out["router"] = {"targetAppID": event.app_id}
        case ChildWorkflowInstanceCompleted():
            key = "childWorkflowInstanceCompleted"
            _put(body, "taskScheduledId", event.task_scheduled_id)
            _put(body, "result", event.result)
        case ChildWorkflowInstanceFailed():
            key = "childWorkflowInstanceFailed"
            _put(body, "taskScheduledId", event.task_scheduled_id)
            body["failureDetails"] = _failure_json(event.failure)
        case _:
            return None
    return key, body


def _events_of(events: Iterable[Any]) -> list[HistoryEvent]:
    return [getattr(e, "event", e) for e in events]  # StoredEvent -> its event


def to_dapr_dicts(events: Iterable[Any], *, instance_id: str | None = None) -> list[dict[str, Any]]:
    """wfkit events (or stored events) as durabletask ``HistoryEvent`` JSON objects.

    Args:
        instance_id: written as ``executionStarted.workflowInstance.instanceId``.
    """
    out = []
    for event in _events_of(events):
        item = _event_json(event, instance_id)
        if item is not None:
            out.append(item)
    return out


def to_dapr_json(
    events: Iterable[Any], *, instance_id: str | None = None, indent: int | None = 2
) -> str:
    """:func:`to_dapr_dicts` as JSON text (a list, one object per event)."""
    return json.dumps(to_dapr_dicts(events, instance_id=instance_id), indent=indent)


def to_protobuf(events: Iterable[Any], *, instance_id: str | None = None) -> list[Any]:
    """wfkit events as durabletask ``HistoryEvent`` protobuf messages (needs ``dapr``)."""
    json_format, protos = protos_and_json_format()
    return [
        json_format.ParseDict(item, protos.HistoryEvent())
        for item in to_dapr_dicts(events, instance_id=instance_id)
    ]
