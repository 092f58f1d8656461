"""Dapr's histories (``HistoryEvent`` JSON objects, protobuf messages, a client's
``get_workflow_history`` output) as wfkit events."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from wfkit.core._dapr_format import (
    ORIGIN_OF,
    STATUS_NUMBERS,
    STATUS_OF,
    parse_timestamp,
    protos_and_json_format,
)
from wfkit.core._errors import UnknownHistoryEventError
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


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if isinstance(value, dict):  # a StringValue written as an object
        value = value.get("value")
    return value if value is None else str(value)


def _failure(body: dict[str, Any]) -> FailureDetails:
    details = body.get("failureDetails") or {}
    return FailureDetails(
        message=details.get("errorMessage", ""),
        error_type=details.get("errorType", ""),
        stack_trace=_text(details, "stackTrace"),
    )


def _status(value: Any) -> str:
    if isinstance(value, int):
        return STATUS_NUMBERS.get(value, "COMPLETED")
    return STATUS_OF.get(str(value), "COMPLETED")


def _app_id(item: dict[str, Any]) -> str | None:
    router = item.get("router") or {}
    return router.get("targetAppID") or None


#: Fields of a ``HistoryEvent`` object beside its oneof (the kind of event).
NOT_KINDS = frozenset({"eventId", "timestamp", "router"})


def _event_from_json(item: dict[str, Any], *, lossy: bool = False) -> HistoryEvent | None:
    ts = parse_timestamp(item.get("timestamp"))
    event_id = int(item.get("eventId", 0) or 0)
    kind = None
    for key in item:
        if key not in NOT_KINDS:
            kind = key
            break
    body: dict[str, Any] = (item.get(kind) or {}) if kind else {}
    return _instance_event(kind, body, ts) or _task_event(kind, body, item, ts, event_id, lossy)


def _instance_event(kind: str | None, body: dict[str, Any], ts: datetime) -> HistoryEvent | None:
    """An event of the instance's own lifecycle, from its oneof field and body."""
    match kind:
        case "executionStarted":
            parent = body.get("parentInstance") or {}
            parent_id = (parent.get("workflowInstance") or {}).get("instanceId")
            return ExecutionStarted(
                timestamp=ts,
                workflow_name=body.get("name", ""),
                input=_text(body, "input"),
                parent_instance_id=parent_id or None,
                parent_task_id=int(parent.get("taskScheduledId", 0)) if parent_id else None,
            )
        case "workflowStarted" | "orchestratorStarted":
            version = body.get("version") or {}
            return WorkflowStarted(
                timestamp=ts,
                version_name=version.get("name") or None,
                patches=tuple(version.get("patches") or ()),
            )
        case "executionSuspended":
            return ExecutionSuspended(timestamp=ts, reason=_text(body, "input"))
        case "executionResumed":
            return ExecutionResumed(timestamp=ts, reason=_text(body, "input"))
        case "executionTerminated":
            return ExecutionTerminated(
                timestamp=ts, output=_text(body, "input"), recursive=bool(body.get("recurse"))
            )
        case "executionCompleted":
            failure = _failure(body) if body.get("failureDetails") else None
            return ExecutionCompleted(
                timestamp=ts,
                status=_status(body.get("workflowStatus")),
                result=_text(body, "result"),
                failure=failure,
            )
    return None


def _task_event(
    kind: str | None,
    body: dict[str, Any],
    item: dict[str, Any],
    ts: datetime,
    event_id: int,
    lossy: bool,
) -> HistoryEvent | None:
    """An event of a task, a timer or an external event, from its oneof field and body."""
    if kind is not None and kind.startswith(("childWorkflow", "subOrchestration")):
        return _child_event(kind, body, item, ts, event_id)
    match kind:
        case "taskScheduled":
            return TaskScheduled(
                timestamp=ts,
                task_id=event_id,
                activity_name=body.get("name", ""),
                input=_text(body, "input"),
                task_execution_id=body.get("taskExecutionId", ""),
                app_id=_app_id(item),
            )
        case "taskCompleted":
            return TaskCompleted(
                timestamp=ts,
                task_scheduled_id=int(body.get("taskScheduledId", 0)),
                result=_text(body, "result"),
            )
        case "taskFailed":
            return TaskFailed(
                timestamp=ts,
                task_scheduled_id=int(body.get("taskScheduledId", 0)),
                failure=_failure(body),
            )
        case "timerCreated":
            origin_key = next((k for k in ORIGIN_OF if k in body), None)
            origin = ORIGIN_OF[origin_key] if origin_key else ("" if lossy else "create_timer")
            name = body.get("name") or None
            if origin_key == "externalEvent":
                name = (body.get("externalEvent") or {}).get("name") or name
            fire_at = body.get("fireAt")
            return TimerCreated(
                timestamp=ts,
                task_id=event_id,
                fire_at=parse_timestamp(fire_at) if fire_at is not None else ts,
                origin=origin,
                origin_name=name,
            )
        case "timerFired":
            fire_at = body.get("fireAt")
            timer_id = body.get("timerId")
            return TimerFired(
                timestamp=ts,
                timer_id=int(timer_id) if timer_id is not None else (-1 if lossy else 0),
                fire_at=parse_timestamp(fire_at) if fire_at is not None else ts,
            )
        case "eventRaised":
            return EventRaised(
                timestamp=ts, event_name=body.get("name", ""), input=_text(body, "input")
            )
    return None


def _child_event(
    kind: str, body: dict[str, Any], item: dict[str, Any], ts: datetime, event_id: int
) -> HistoryEvent | None:
    """An event of a child workflow (Dapr's older ``subOrchestration`` names too)."""
    match kind:
        case "childWorkflowInstanceCreated" | "subOrchestrationInstanceCreated":
            return ChildWorkflowInstanceCreated(
                timestamp=ts,
                task_id=event_id,
                workflow_name=body.get("name", ""),
                instance_id=body.get("instanceId", ""),
                input=_text(body, "input"),
                app_id=_app_id(item),
            )
        case "childWorkflowInstanceCompleted" | "subOrchestrationInstanceCompleted":
            return ChildWorkflowInstanceCompleted(
                timestamp=ts,
                task_scheduled_id=int(body.get("taskScheduledId", 0)),
                result=_text(body, "result"),
            )
        case "childWorkflowInstanceFailed" | "subOrchestrationInstanceFailed":
            return ChildWorkflowInstanceFailed(
                timestamp=ts,
                task_scheduled_id=int(body.get("taskScheduledId", 0)),
                failure=_failure(body),
            )
    return None


def _is_message(item: Any) -> bool:
    return hasattr(item, "DESCRIPTOR") and hasattr(item, "ListFields")


def _history_event_json(event: Any) -> dict[str, Any]:
    """A ``WorkflowHistoryEvent`` (wfkit's or Dapr's) as the JSON its event would have."""
    event_type = getattr(event.event_type, "value", event.event_type)
    body: dict[str, Any] = {}
    if event.name is not None:
        body["name"] = event.name
    if event.task_scheduled_id is not None:
        body["taskScheduledId"] = event.task_scheduled_id
    failure = event.failure_details
    if failure is not None:
        body["failureDetails"] = {
            "errorType": failure.error_type,
            "errorMessage": failure.message,
            "stackTrace": failure.stack_trace,
        }
        if event_type == "executionCompleted":
            body["workflowStatus"] = "ORCHESTRATION_STATUS_FAILED"
    return {"eventId": event.event_id, "timestamp": event.timestamp, str(event_type): body}


def from_workflow_history(events: Iterable[Any]) -> list[HistoryEvent]:
    """A client's ``get_workflow_history`` output (``WorkflowHistoryEvent`` objects of
    Dapr's SDK or of wfkit) as wfkit events; payloads are ``None`` (none are reported)."""
    out = []
    for event in events:
        parsed = _event_from_json(_history_event_json(event), lossy=True)
        if parsed is not None:
            out.append(parsed)
    return out


def is_workflow_history(items: Sequence[Any]) -> bool:
    return bool(items) and all(hasattr(e, "event_type") for e in items)


def from_dapr(data: Any) -> list[HistoryEvent]:
    """Dapr's history as wfkit events, from: JSON text of a list of ``HistoryEvent``
    objects, such a list already parsed, ``HistoryEvent`` protobuf messages, or a client's
    ``get_workflow_history`` output (:func:`from_workflow_history`)."""
    if isinstance(data, (str, bytes)):
        data = json.loads(data)
    if isinstance(data, dict) and "events" in data:
        data = data["events"]
    items = list(data)
    if is_workflow_history(items):
        return from_workflow_history(items)
    out = []
    for item in items:
        if type(item) is not dict and _is_message(item):
            json_format, _ = protos_and_json_format()
            item = json_format.MessageToDict(item)
        if not isinstance(item, dict):
            raise TypeError(
                f"expected durabletask HistoryEvent JSON objects or messages, not {item!r}"
            )
        parsed = _event_from_json(item)
        if parsed is not None:
            out.append(parsed)
    return out


#: Dapr's events that wfkit has no counterpart for and reads past (see above).
IGNORED_KINDS = frozenset(
    {
        "eventSent",
        "continueAsNew",
        "workflowCompleted",
        "orchestratorCompleted",
        "executionStalled",
        "detachedWorkflowInstanceCreated",
    }
)


def from_engine_messages(
    messages: Iterable[Any], *, instance_id: str, start: int = 0
) -> list[HistoryEvent]:
    """``HistoryEvent`` messages read from an engine, as wfkit events; unlike
    :func:`from_dapr`, an event of a kind wfkit does not know (a newer engine's) raises
    :class:`UnknownHistoryEventError` naming it, rather than being left out.

    Args:
        start: the position of the first message in the instance's history (for errors).
    """
    json_format, _ = protos_and_json_format()
    out = []
    for position, message in enumerate(messages, start):
        item = json_format.MessageToDict(message)
        parsed = _event_from_json(item)
        if parsed is not None:
            out.append(parsed)
            continue
        kind = next((k for k in item if k not in NOT_KINDS), None)
        if kind not in IGNORED_KINDS:
            raise UnknownHistoryEventError(
                f"event {position} of the history of {instance_id!r} is of a kind wfkit "
                f"cannot read ({kind or 'a field this protocol version does not define'}); "
                "the engine is probably newer than this wfkit: upgrade wfkit, or read this "
                "instance with the engine's own tools"
            )
    return out


def instance_id_of(items: Sequence[Any]) -> str | None:
    """The instance id an exported history names (``executionStarted.workflowInstance``)."""
    for item in items:
        if isinstance(item, dict) and "executionStarted" in item:
            started = item["executionStarted"] or {}
            return (started.get("workflowInstance") or {}).get("instanceId") or None
    return None
