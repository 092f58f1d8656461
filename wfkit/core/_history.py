"""History events: the past-tense facts an instance's history is made of.

Names follow the durabletask vocabulary that Dapr's history API uses, so a Dapr
history can be imported and a wfkit history exported. Payload fields hold JSON text
(or ``None``) exactly as stored; they are decoded only when the orchestrator needs them.

The orchestrator's decisions (schedule an activity, create a timer, start a child) are
recorded as the same facts that confirm them (``TaskScheduled``, ``TimerCreated``,
``ChildWorkflowInstanceCreated``): a decision becomes a fact the moment its episode
commits, and on replay the code's decision is compared with the recorded fact field by field.
"""

from __future__ import annotations

import dataclasses
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from wfkit.core._serde import storable

#: Fire time of the timer that an indefinite ``wait_for_external_event`` reserves (as Dapr).
OPTIONAL_TIMER_FIRE_AT = datetime(9999, 12, 31, 23, 59, 59, 999999)


@dataclass(frozen=True, slots=True)
class FailureDetails:
    """Why a task or a workflow failed: Dapr's ``FailureDetails(message, error_type,
    stack_trace)``, except that ``stack_trace`` may be left out (it defaults to None)."""

    message: str
    error_type: str
    stack_trace: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> FailureDetails:
        # user text: what cannot be stored (lone surrogates) is escaped
        return cls(
            message=storable(str(exc)),
            error_type=type(exc).__name__,
            stack_trace=storable("".join(traceback.format_tb(exc.__traceback__))) or None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEvent:
    """Base of all events; ``timestamp`` is virtual (clock) time, naive UTC."""

    timestamp: datetime
    #: Scheduling events carry their task id as event id; the rest report -1, as Dapr.
    is_scheduling: ClassVar[bool] = False

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def event_id(self) -> int:
        return getattr(self, "task_id", -1) if self.is_scheduling else -1

    @property
    def name(self) -> str | None:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionStarted(HistoryEvent):
    workflow_name: str
    input: str | None = None
    parent_instance_id: str | None = None
    parent_task_id: int | None = None
    #: History handed down by the caller (JSON text of a PropagatedHistory), if any.
    propagated: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str | None:
        return self.workflow_name


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowStarted(HistoryEvent):
    """Opens an episode; its timestamp is ``ctx.current_utc_datetime`` for that episode.

    Like Dapr's ``OrchestratorStarted.version``, it records the workflow version the
    instance runs (``version_name``, on the first episode) and the patches the code had
    found applied (``ctx.is_patched``) by the end of the episode."""

    version_name: str | None = None
    patches: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if type(self.patches) is not tuple:  # a JSON list read back
            object.__setattr__(self, "patches", tuple(self.patches))


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskScheduled(HistoryEvent):
    task_id: int
    activity_name: str
    input: str | None = None
    task_execution_id: str = ""
    app_id: str | None = None
    #: PropagationScope value of the call (0: none); not compared on replay, as Dapr.
    propagation: int = field(default=0, compare=False)
    #: Source line of the workflow function that made this decision (wfkit's own: not
    #: in Dapr's history, not compared on replay; time travel reports it).
    line: int | None = field(default=None, compare=False, repr=False)
    is_scheduling: ClassVar[bool] = True

    @property
    def name(self) -> str | None:
        return self.activity_name


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCompleted(HistoryEvent):
    task_scheduled_id: int
    result: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFailed(HistoryEvent):
    task_scheduled_id: int
    failure: FailureDetails


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerCreated(HistoryEvent):
    task_id: int
    fire_at: datetime
    #: What the timer is for: "create_timer", "external_event" (a wait's timeout),
    #: "activity_retry" or "child_workflow_retry".
    origin: str = "create_timer"
    #: The event name for "external_event" timers.
    origin_name: str | None = None
    #: Source line of the workflow function that made this decision (wfkit's own: not
    #: in Dapr's history, not compared on replay; time travel reports it).
    line: int | None = field(default=None, compare=False, repr=False)
    is_scheduling: ClassVar[bool] = True

    @property
    def is_optional(self) -> bool:
        return self.fire_at == OPTIONAL_TIMER_FIRE_AT

    @property
    def name(self) -> str | None:
        return self.origin_name


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(HistoryEvent):
    timer_id: int
    fire_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRaised(HistoryEvent):
    event_name: str
    input: str | None = None

    @property
    def name(self) -> str | None:
        return self.event_name


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildWorkflowInstanceCreated(HistoryEvent):
    task_id: int
    workflow_name: str
    instance_id: str
    input: str | None = None
    app_id: str | None = None
    #: PropagationScope value of the call (0: none); not compared on replay, as Dapr.
    propagation: int = field(default=0, compare=False)
    #: Source line of the workflow function that made this decision (wfkit's own: not
    #: in Dapr's history, not compared on replay; time travel reports it).
    line: int | None = field(default=None, compare=False, repr=False)
    is_scheduling: ClassVar[bool] = True

    @property
    def name(self) -> str | None:
        return self.workflow_name


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildWorkflowInstanceCompleted(HistoryEvent):
    task_scheduled_id: int
    result: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildWorkflowInstanceFailed(HistoryEvent):
    task_scheduled_id: int
    failure: FailureDetails


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionSuspended(HistoryEvent):
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionResumed(HistoryEvent):
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionTerminated(HistoryEvent):
    output: str | None = None
    recursive: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionCompleted(HistoryEvent):
    """The end of an instance (or of one generation, for ``continue_as_new``)."""

    status: str  # "COMPLETED", "FAILED", "TERMINATED" or "CONTINUED_AS_NEW"
    result: str | None = None
    failure: FailureDetails | None = None


EVENT_TYPES: dict[str, type[HistoryEvent]] = {
    cls.__name__: cls
    for cls in (
        ExecutionStarted,
        WorkflowStarted,
        TaskScheduled,
        TaskCompleted,
        TaskFailed,
        TimerCreated,
        TimerFired,
        EventRaised,
        ChildWorkflowInstanceCreated,
        ChildWorkflowInstanceCompleted,
        ChildWorkflowInstanceFailed,
        ExecutionSuspended,
        ExecutionResumed,
        ExecutionTerminated,
        ExecutionCompleted,
    )
}

#: Events that a suspended instance buffers until it is resumed (all but resume/terminate).
NOT_SUSPENDABLE = (ExecutionResumed, ExecutionTerminated)


def event_fields(event: HistoryEvent) -> dict[str, Any]:
    """The event's own fields (without ``timestamp``), JSON-ready."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        if f.name == "timestamp":
            continue
        value = getattr(event, f.name)
        if isinstance(value, FailureDetails):
            value = dataclasses.asdict(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[f.name] = value
    return out


def event_to_json(event: HistoryEvent) -> dict[str, Any]:
    """The event as JSON data: its ``kind``, ``timestamp`` (ISO text) and own fields
    (:func:`event_from_json` reads it back)."""
    return {"kind": event.kind, "timestamp": event.timestamp.isoformat(), **event_fields(event)}


def event_from_json(data: dict[str, Any]) -> HistoryEvent:
    """The event :func:`event_to_json` wrote."""
    values = dict(data)
    cls = EVENT_TYPES[values.pop("kind")]
    values["timestamp"] = datetime.fromisoformat(values["timestamp"])
    if isinstance(values.get("failure"), dict):
        values["failure"] = FailureDetails(**values["failure"])
    if isinstance(values.get("fire_at"), str):
        values["fire_at"] = datetime.fromisoformat(values["fire_at"])
    return cls(**values)
