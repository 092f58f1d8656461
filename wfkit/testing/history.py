"""Histories built event by event, for tests of a workflow's decisions without a runtime.

One function a history event, named after the event's class in snake case
(``task_completed`` builds a :class:`~wfkit.core._history.TaskCompleted`); payloads are
Python values, encoded to JSON as the runtime stores them. Feed the events to
:func:`wfkit.testing.run_executor` (history already recorded, then the new events) and
assert on the decisions the code makes and on its outcome::

    from wfkit.testing import history as h, run_executor

    def test_the_second_activity_follows_the_first():
        past = [
            h.workflow_started(),
            h.execution_started(order, {"amount": 5}),
            h.task_scheduled(1, charge, {"amount": 5}),
        ]
        new = [h.workflow_started(), h.task_completed(1, "receipt-1")]
        run = run_executor(order, past, new)
        assert [d.name for d in run.decisions] == ["ship"]

Task ids count from 1 in the order the code makes its calls (an indefinite
``wait_for_external_event`` reserves one for a timer that never fires, as Dapr's engine
does). Every event's ``timestamp`` defaults to :data:`START`, the virtual time a test
runtime starts at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from wfkit.core import _serde
from wfkit.core._context import OutcomeStatus
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
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
    WorkflowStarted,
)
from wfkit.core._orchestration import registered_name
from wfkit.testing._runs import START

#: The instance id :func:`wfkit.testing.run_executor` runs under unless told otherwise.
INSTANCE_ID = "test-instance"

#: A workflow, activity or child workflow: the function, or the name it is registered under.
Named = Callable[..., Any] | str


def _json(value: Any) -> str | None:
    return _serde.encode(value, what="a payload of a built history")


# --------------------------------------------------------------------------- the instance
def execution_started(
    workflow: Named,
    input: Any = None,
    *,
    timestamp: datetime = START,
    parent_instance_id: str | None = None,
    parent_task_id: int | None = None,
) -> ExecutionStarted:
    """The instance of ``workflow`` starts with ``input``."""
    return ExecutionStarted(
        timestamp=timestamp,
        workflow_name=registered_name(workflow),
        input=_json(input),
        parent_instance_id=parent_instance_id,
        parent_task_id=parent_task_id,
    )


def workflow_started(
    timestamp: datetime = START,
    *,
    version_name: str | None = None,
    patches: Iterable[str] = (),
) -> WorkflowStarted:
    """An episode opens at ``timestamp`` (the code's ``ctx.current_utc_datetime``), with
    the workflow version and the patches it recorded, if any."""
    return WorkflowStarted(timestamp=timestamp, version_name=version_name, patches=tuple(patches))


def execution_completed(
    result: Any = None,
    *,
    status: str = OutcomeStatus.COMPLETED,
    failure: FailureDetails | None = None,
    timestamp: datetime = START,
) -> ExecutionCompleted:
    """The instance ended (``status``: COMPLETED, FAILED, TERMINATED, CONTINUED_AS_NEW)."""
    return ExecutionCompleted(
        timestamp=timestamp, status=status, result=_json(result), failure=failure
    )


def execution_suspended(
    reason: str | None = None, *, timestamp: datetime = START
) -> ExecutionSuspended:
    return ExecutionSuspended(timestamp=timestamp, reason=reason)


def execution_resumed(
    reason: str | None = None, *, timestamp: datetime = START
) -> ExecutionResumed:
    return ExecutionResumed(timestamp=timestamp, reason=reason)


def execution_terminated(output: Any = None, *, timestamp: datetime = START) -> ExecutionTerminated:
    return ExecutionTerminated(timestamp=timestamp, output=_json(output))


def event_raised(name: str, value: Any = None, *, timestamp: datetime = START) -> EventRaised:
    """The external event ``name`` arrives with ``value``."""
    return EventRaised(timestamp=timestamp, event_name=name, input=_json(value))


# --------------------------------------------------------------------------- activities
def task_scheduled(
    task_id: int, activity: Named, input: Any = None, *, timestamp: datetime = START
) -> TaskScheduled:
    """The code called ``activity`` as its call number ``task_id`` (a recorded decision)."""
    return TaskScheduled(
        timestamp=timestamp,
        task_id=task_id,
        activity_name=registered_name(activity),
        input=_json(input),
    )


def task_completed(
    task_id: int, result: Any = None, *, timestamp: datetime = START
) -> TaskCompleted:
    """The activity scheduled as ``task_id`` returned ``result``."""
    return TaskCompleted(timestamp=timestamp, task_scheduled_id=task_id, result=_json(result))


def task_failed(
    task_id: int, message: str, error_type: str = "Exception", *, timestamp: datetime = START
) -> TaskFailed:
    """The activity scheduled as ``task_id`` raised ``error_type(message)``."""
    failure = FailureDetails(message=message, error_type=error_type)
    return TaskFailed(timestamp=timestamp, task_scheduled_id=task_id, failure=failure)


# --------------------------------------------------------------------------- timers
def timer_created(
    task_id: int,
    fire_at: datetime,
    *,
    origin: str = "create_timer",
    origin_name: str | None = None,
    timestamp: datetime = START,
) -> TimerCreated:
    """The code created a timer firing at ``fire_at`` as call number ``task_id``. A
    ``wait_for_external_event`` with a timeout records ``origin="external_event"`` and the
    event's name as ``origin_name``; :func:`event_wait_created` is the wait without one."""
    return TimerCreated(
        timestamp=timestamp,
        task_id=task_id,
        fire_at=fire_at,
        origin=origin,
        origin_name=origin_name,
    )


def event_wait_created(task_id: int, name: str, *, timestamp: datetime = START) -> TimerCreated:
    """The timer that never fires which a ``wait_for_external_event(name)`` without a
    timeout reserves (as Dapr's engine does)."""
    return timer_created(
        task_id,
        OPTIONAL_TIMER_FIRE_AT,
        origin="external_event",
        origin_name=name,
        timestamp=timestamp,
    )


def timer_fired(
    task_id: int, fire_at: datetime, *, timestamp: datetime | None = None
) -> TimerFired:
    """The timer created as ``task_id`` fired (at ``fire_at``, unless ``timestamp`` says)."""
    return TimerFired(timestamp=timestamp or fire_at, timer_id=task_id, fire_at=fire_at)


# --------------------------------------------------------------------------- child workflows
def child_workflow_instance_created(
    task_id: int,
    workflow: Named,
    input: Any = None,
    *,
    instance_id: str | None = None,
    parent_instance_id: str = INSTANCE_ID,
    timestamp: datetime = START,
) -> ChildWorkflowInstanceCreated:
    """The code started a child of ``workflow`` as call number ``task_id`` (its instance id
    defaults to the one the executor gives a child of ``parent_instance_id``)."""
    return ChildWorkflowInstanceCreated(
        timestamp=timestamp,
        task_id=task_id,
        workflow_name=registered_name(workflow),
        instance_id=instance_id or f"{parent_instance_id}:{task_id:04x}",
        input=_json(input),
    )


def child_workflow_instance_completed(
    task_id: int, result: Any = None, *, timestamp: datetime = START
) -> ChildWorkflowInstanceCompleted:
    return ChildWorkflowInstanceCompleted(
        timestamp=timestamp, task_scheduled_id=task_id, result=_json(result)
    )


def child_workflow_instance_failed(
    task_id: int, message: str, error_type: str = "Exception", *, timestamp: datetime = START
) -> ChildWorkflowInstanceFailed:
    failure = FailureDetails(message=message, error_type=error_type)
    return ChildWorkflowInstanceFailed(
        timestamp=timestamp, task_scheduled_id=task_id, failure=failure
    )


__all__ = [
    "INSTANCE_ID",
    "START",
    "child_workflow_instance_completed",
    "child_workflow_instance_created",
    "child_workflow_instance_failed",
    "event_raised",
    "event_wait_created",
    "execution_completed",
    "execution_resumed",
    "execution_started",
    "execution_suspended",
    "execution_terminated",
    "task_completed",
    "task_failed",
    "task_scheduled",
    "timer_created",
    "timer_fired",
    "workflow_started",
]
