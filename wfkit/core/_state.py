"""What the client reports about instances: Dapr's WorkflowState, WorkflowStatus and
history types, built from the store's instance records."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from wfkit.core._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceFailed,
    FailureDetails,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TimerCreated,
)

#: The bits of a random 128-bit number that make it a version 4 UUID (RFC 4122).
_UUID4_CLEAR = ~(0xF000 << 64 | 0xC000 << 48)
_UUID4_SET = 0x4000 << 64 | 0x8000 << 48


#: Instance ids come from a private generator seeded by the OS. ``os.urandom`` per id
#: would release the GIL at every ``schedule_new_workflow``, and the engine's thread
#: would take it each time for a turn of the few instances scheduled since its last one:
#: a stream of schedule calls would pay a turn's fixed cost every few instances. Not the
#: ``random`` module's generator, which a notebook may seed: ids must not repeat.
_ids = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(32)))


def random_instance_id() -> str:
    """A random instance id: a version 4 UUID as 32 hex digits, as ``uuid4().hex`` gives
    (built without a ``UUID`` object, which costs more than scheduling needs)."""
    number = _ids.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET
    return f"{number:032x}"


class WorkflowStatus(Enum):
    """Runtime status of an instance (Dapr's members and values)."""

    UNKNOWN = 0
    RUNNING = 1
    COMPLETED = 2
    FAILED = 3
    TERMINATED = 4
    PENDING = 5
    SUSPENDED = 6
    STALLED = 7

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.TERMINATED})


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """One row of the instances table: everything the client reports about an instance."""

    instance_id: str
    name: str
    status: WorkflowStatus
    created_at: datetime
    last_updated_at: datetime
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    failure: FailureDetails | None = None
    parent_instance_id: str | None = None
    parent_task_id: int | None = None
    #: When a scheduled start (``start_at``) is due; kept so a restart still waits for it.
    start_at: datetime | None = None
    #: A fork or rerun: the instance whose history it started from ...
    origin_instance_id: str | None = None
    #: ... and the id of the scheduling event it started at (history before it is copied).
    origin_event_id: int | None = None


class WorkflowFailedError(Exception):
    """Raised by :meth:`WorkflowState.raise_if_failed` for a failed instance."""

    def __init__(self, message: str, failure_details: FailureDetails):
        super().__init__(message)
        self._failure_details = failure_details

    @property
    def failure_details(self) -> FailureDetails:
        return self._failure_details


class WorkflowState:
    """A snapshot of an instance, with Dapr's attribute names."""

    def __init__(self, record: InstanceRecord, *, fetch_payloads: bool = True):
        self._record = record
        self._payloads = fetch_payloads

    instance_id = property(lambda self: self._record.instance_id)
    name = property(lambda self: self._record.name)
    runtime_status = property(lambda self: self._record.status)
    created_at = property(lambda self: self._record.created_at)
    last_updated_at = property(lambda self: self._record.last_updated_at)
    failure_details = property(lambda self: self._record.failure)

    @property
    def serialized_input(self) -> str | None:
        return self._record.input if self._payloads else None

    @property
    def serialized_output(self) -> str | None:
        return self._record.output if self._payloads else None

    @property
    def serialized_custom_status(self) -> str | None:
        return self._record.custom_status if self._payloads else None

    @property
    def parent_instance_id(self) -> str | None:
        return self._record.parent_instance_id

    def raise_if_failed(self) -> None:
        """Raise :class:`WorkflowFailedError` if the instance failed (as Dapr's state does)."""
        if self.failure_details is not None:
            raise WorkflowFailedError(
                f"Orchestration '{self.instance_id}' failed: {self.failure_details.message}",
                self.failure_details,
            )

    def to_json(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "instance_id": self.instance_id,
            "name": self.name,
            "runtime_status": self.runtime_status.name,
            "created_at": self.created_at,
            "last_updated_at": self.last_updated_at,
            "serialized_input": self.serialized_input,
            "serialized_output": self.serialized_output,
            "serialized_custom_status": self.serialized_custom_status,
        }
        if self.failure_details is not None:
            state["failure_details"] = {
                "message": self.failure_details.message,
                "error_type": self.failure_details.error_type,
                "stack_trace": self.failure_details.stack_trace,
            }
        return state

    def __str__(self) -> str:
        return json.dumps(self.to_json(), indent=4, sort_keys=True, default=str)

    def __repr__(self) -> str:
        return f"<WorkflowState {self.instance_id!r} {self.name!r} {self.runtime_status.name}>"


class WorkflowHistoryEventType(Enum):
    """Kind of a history event (Dapr's members; values are the protobuf field names)."""

    UNKNOWN = "unknown"
    EXECUTION_STARTED = "executionStarted"
    EXECUTION_COMPLETED = "executionCompleted"
    EXECUTION_TERMINATED = "executionTerminated"
    EXECUTION_SUSPENDED = "executionSuspended"
    EXECUTION_RESUMED = "executionResumed"
    EXECUTION_STALLED = "executionStalled"
    TASK_SCHEDULED = "taskScheduled"
    TASK_COMPLETED = "taskCompleted"
    TASK_FAILED = "taskFailed"
    CHILD_WORKFLOW_INSTANCE_CREATED = "childWorkflowInstanceCreated"
    CHILD_WORKFLOW_INSTANCE_COMPLETED = "childWorkflowInstanceCompleted"
    CHILD_WORKFLOW_INSTANCE_FAILED = "childWorkflowInstanceFailed"
    DETACHED_WORKFLOW_INSTANCE_CREATED = "detachedWorkflowInstanceCreated"
    TIMER_CREATED = "timerCreated"
    TIMER_FIRED = "timerFired"
    EVENT_SENT = "eventSent"
    EVENT_RAISED = "eventRaised"
    CONTINUE_AS_NEW = "continueAsNew"
    WORKFLOW_STARTED = "workflowStarted"
    WORKFLOW_COMPLETED = "workflowCompleted"

    @classmethod
    def _missing_(cls, value: object) -> WorkflowHistoryEventType:
        return cls.UNKNOWN

    @classmethod
    def of(cls, event: HistoryEvent) -> WorkflowHistoryEventType:
        kind = event.kind
        return cls(kind[0].lower() + kind[1:])


_RERUNNABLE = frozenset(
    {
        WorkflowHistoryEventType.TASK_SCHEDULED,
        WorkflowHistoryEventType.TIMER_CREATED,
        WorkflowHistoryEventType.CHILD_WORKFLOW_INSTANCE_CREATED,
    }
)


@dataclass(frozen=True)
class WorkflowHistoryEvent:
    """One event of an instance's history, as Dapr's ``get_workflow_history`` reports it."""

    event_id: int
    timestamp: datetime
    event_type: WorkflowHistoryEventType
    name: str | None
    task_scheduled_id: int | None
    failure_details: FailureDetails | None

    @property
    def is_rerunnable(self) -> bool:
        return self.event_type in _RERUNNABLE

    @classmethod
    def of(cls, event: HistoryEvent) -> WorkflowHistoryEvent:
        scheduled = (
            event.task_scheduled_id
            if isinstance(
                event,
                TaskCompleted
                | TaskFailed
                | ChildWorkflowInstanceCompleted
                | ChildWorkflowInstanceFailed,
            )
            else None
        )
        return cls(
            event_id=event.event_id,
            timestamp=event.timestamp,
            event_type=WorkflowHistoryEventType.of(event),
            # Dapr's SDK sends no name with a timer (an event wait's timer keeps the
            # event's name in its origin), so Dapr's engine reports none
            name=None if isinstance(event, TimerCreated) else event.name,
            task_scheduled_id=scheduled,
            failure_details=getattr(event, "failure", None),
        )


@dataclass(frozen=True)
class WorkflowInstanceIdPage:
    """One page of instance ids; ``continuation_token`` is None on the last page."""

    instance_ids: list[str]
    continuation_token: str | None


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


#: Default of ``rerun_workflow_from_event(input=...)``: keep the recorded input.
UNSET: Any = _Unset()
