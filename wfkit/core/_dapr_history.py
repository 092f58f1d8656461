"""wfkit histories in Dapr's shape, and Dapr's histories as wfkit events (the codec
behind :mod:`wfkit.interop.dapr`, kept here so every layer can read Dapr's histories).

Dapr's workflow engine (durabletask) keeps a history as ``HistoryEvent`` protobuf
messages; their JSON form (``google.protobuf.json_format.MessageToJson`` of each event,
as a JSON list) is the exchange format here. :func:`to_dapr_dicts` writes exactly what
``MessageToDict`` gives for the same messages (camelCase names, RFC 3339 timestamps,
``StringValue`` wrappers as plain strings, default values left out), so an exported
history parses back into protobuf messages, and :func:`from_dapr` reads Dapr's export
(or the messages themselves) into wfkit's events.

The mapping, event by event (protobuf field -> wfkit field):

=============================  ==========================================================
``executionStarted``           ``name``, ``input``, ``parentInstance.taskScheduledId`` and
                               ``.workflowInstance.instanceId`` -> ``ExecutionStarted``
``workflowStarted``            ``WorkflowStarted`` (the episode's time; ``version``: name, patches)
``taskScheduled``              ``eventId`` -> ``task_id``, ``name``, ``input``,
                               ``taskExecutionId``, ``router.targetAppID`` -> ``app_id``
``taskCompleted``/``Failed``   ``taskScheduledId``, ``result`` / ``failureDetails``
``timerCreated``               ``eventId``, ``fireAt``; the origin (``createTimer``,
                               ``externalEvent.name``, ``activityRetry``,
                               ``childWorkflowRetry``) -> ``origin``/``origin_name``
``timerFired``                 ``timerId``, ``fireAt``
``eventRaised``                ``name``, ``input``
``childWorkflowInstance*``     ``instanceId``, ``name``, ``input``, ``result``, ``failure``
``executionSuspended/Resumed``  ``input`` -> ``reason``
``executionTerminated``        ``input`` -> ``output``, ``recurse`` -> ``recursive``
``executionCompleted``         ``workflowStatus`` (``ORCHESTRATION_STATUS_*``), ``result``,
                               ``failureDetails``
=============================  ==========================================================

Dapr events wfkit has no counterpart for (``eventSent``, ``continueAsNew``,
``workflowCompleted``, ``executionStalled``, ``detachedWorkflowInstanceCreated``) are
left out on import. The source line wfkit records with each decision is not exported.

The Dapr client's ``get_workflow_history`` (a list of ``WorkflowHistoryEvent``, wfkit's
or Dapr's) carries no payloads: :func:`from_workflow_history` reads it with inputs and
results as ``None``, timers without their fire time and origin (``origin == ""``) and
fired timers without the id of their timer (``timer_id == -1``); a time-travel cursor
fills the timer details in from the workflow code as it replays.

protobuf itself is needed only by :func:`to_protobuf` and to read message objects; it
is imported when used (it comes with ``dapr``, the ``dev`` extra).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from wfkit.core._errors import UnknownHistoryEventError
from wfkit.core._history import (
    OPTIONAL_TIMER_FIRE_AT,
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
from wfkit.core._time import to_naive_utc

_EPOCH = datetime(1970, 1, 1)
#: The fire time of an indefinite wait's timer, as Dapr writes it (wfkit keeps
#: microseconds: ``OPTIONAL_TIMER_FIRE_AT``).
_OPTIONAL_JSON = "9999-12-31T23:59:59.999999999Z"

#: wfkit's timer origins and the ``TimerCreatedEvent`` oneof field of each.
_TIMER_ORIGINS = {
    "create_timer": "createTimer",
    "external_event": "externalEvent",
    "activity_retry": "activityRetry",
    "child_workflow_retry": "childWorkflowRetry",
}
_ORIGIN_OF = {v: k for k, v in _TIMER_ORIGINS.items()}

_STATUS = {
    "COMPLETED": "ORCHESTRATION_STATUS_COMPLETED",
    "FAILED": "ORCHESTRATION_STATUS_FAILED",
    "TERMINATED": "ORCHESTRATION_STATUS_TERMINATED",
    "CONTINUED_AS_NEW": "ORCHESTRATION_STATUS_CONTINUED_AS_NEW",
}
_STATUS_OF = {v: k for k, v in _STATUS.items()}
_STATUS_OF["ORCHESTRATION_STATUS_CANCELED"] = "TERMINATED"
#: ``OrchestrationStatus`` numbers, for dicts written with ``use_integers_for_enums``.
_STATUS_NUMBERS = {
    1: "COMPLETED",
    2: "CONTINUED_AS_NEW",
    3: "FAILED",
    4: "TERMINATED",
    5: "TERMINATED",
}


# --------------------------------------------------------------------------- timestamps
def timestamp_json(value: datetime) -> str:
    """A naive-UTC datetime as protobuf's JSON writes a ``Timestamp``."""
    if value == OPTIONAL_TIMER_FIRE_AT:  # Dapr's sentinel has nanoseconds: 999999999
        return _OPTIONAL_JSON
    value = to_naive_utc(value)
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    micros = value.microsecond
    if micros == 0:
        return text + "Z"
    if micros % 1000 == 0:
        return f"{text}.{micros // 1000:03d}Z"
    return f"{text}.{micros:06d}Z"


_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2})?$"
)


_PARSED: dict[str, datetime] = {}


def parse_timestamp(value: Any) -> datetime:
    """An RFC 3339 text (or a datetime) as a naive-UTC datetime (nanoseconds truncated)."""
    if isinstance(value, str):
        parsed = _PARSED.get(value)
        if parsed is None:
            parsed = _parse_text(value)
            if len(_PARSED) > 65536:
                _PARSED.clear()
            _PARSED[value] = parsed
        return parsed
    if value is None:
        return _EPOCH
    if isinstance(value, datetime):
        return to_naive_utc(value)
    if hasattr(value, "ToDatetime"):  # a protobuf Timestamp
        return value.ToDatetime()
    return _parse_text(str(value))


def _parse_text(text: str) -> datetime:
    if not text:
        return _EPOCH
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_rfc3339(text)
    parsed = to_naive_utc(parsed)
    return parsed


def _parse_rfc3339(text: str) -> datetime:
    match = _TIMESTAMP.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    day, time, fraction, zone = match.groups()
    parsed = datetime.fromisoformat(f"{day}T{time}")
    if fraction:
        parsed = parsed.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        parsed -= sign * timedelta(hours=hours, minutes=minutes)
    return parsed


# --------------------------------------------------------------------------- export
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
            origin = _TIMER_ORIGINS.get(event.origin)
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
            body["workflowStatus"] = _STATUS.get(event.status, "ORCHESTRATION_STATUS_COMPLETED")
            _put(body, "result", event.result)
            if event.failure is not None:
                body["failureDetails"] = _failure_json(event.failure)
        case _:
            return None
    out[key] = body
    return out


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


def _protos() -> tuple[Any, Any]:
    try:
        from dapr.ext.workflow._durabletask.internal import protos
        from google.protobuf import json_format
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "protobuf messages need Dapr's SDK and protobuf: pip install 'wfkit[dapr]' "
            f"(or dapr[workflow]) ({exc})"
        ) from None
    return json_format, protos


def to_protobuf(events: Iterable[Any], *, instance_id: str | None = None) -> list[Any]:
    """wfkit events as durabletask ``HistoryEvent`` protobuf messages (needs ``dapr``)."""
    json_format, protos = _protos()
    return [
        json_format.ParseDict(item, protos.HistoryEvent())
        for item in to_dapr_dicts(events, instance_id=instance_id)
    ]


# --------------------------------------------------------------------------- import
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
        return _STATUS_NUMBERS.get(value, "COMPLETED")
    return _STATUS_OF.get(str(value), "COMPLETED")


def _app_id(item: dict[str, Any]) -> str | None:
    router = item.get("router") or {}
    return router.get("targetAppID") or None


_NOT_KINDS = frozenset({"eventId", "timestamp", "router"})


def _event_from_json(item: dict[str, Any], *, lossy: bool = False) -> HistoryEvent | None:
    ts = parse_timestamp(item.get("timestamp"))
    event_id = int(item.get("eventId", 0) or 0)
    kind = None
    for key in item:
        if key not in _NOT_KINDS:
            kind = key
            break
    body: dict[str, Any] = (item.get(kind) or {}) if kind else {}
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
            origin_key = next((k for k in _ORIGIN_OF if k in body), None)
            origin = _ORIGIN_OF[origin_key] if origin_key else ("" if lossy else "create_timer")
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
            json_format, _ = _protos()
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
    json_format, _ = _protos()
    out = []
    for position, message in enumerate(messages, start):
        item = json_format.MessageToDict(message)
        parsed = _event_from_json(item)
        if parsed is not None:
            out.append(parsed)
            continue
        kind = next((k for k in item if k not in _NOT_KINDS), None)
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
