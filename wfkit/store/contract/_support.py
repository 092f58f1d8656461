"""What the contract's checks share: sample records and events, the error a failed check
raises, and the stores a check makes (closed when it ends)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from wfkit.core._history import (
    EVENT_TYPES,
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
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.store._base import HistoryStore, StoredEvent

#: Makes a new, empty store each time it is called (a file store: a new file).
StoreFactory = Callable[[], HistoryStore]

T0 = datetime(2025, 3, 1, 12, 0, 0)
WALL = 1_750_000_000.25


class StoreContractError(AssertionError):
    """A store does not keep a promise of the store protocol."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StoreContractError(message)


def expect_equal(got: object, expected: object, what: str) -> None:
    if got != expected:
        raise StoreContractError(f"{what}: expected {expected!r}, got {got!r}")


@contextlib.contextmanager
def stores(make: StoreFactory) -> Iterator[StoreFactory]:
    """``make``, closing every store it made when the block ends."""
    made: list[HistoryStore] = []

    def new() -> HistoryStore:
        store = make()
        made.append(store)
        return store

    try:
        yield new
    finally:
        for store in made:
            store.close()


def record(instance_id: str, **changes: object) -> InstanceRecord:
    values: dict[str, object] = dict(
        instance_id=instance_id,
        name="wf",
        status=WorkflowStatus.RUNNING,
        created_at=T0,
        last_updated_at=T0,
    )
    values.update(changes)
    return InstanceRecord(**values)  # type: ignore[arg-type]


def stored(instance_id: str, events: list[HistoryEvent], start: int = 0) -> list[StoredEvent]:
    """``events`` as the events ``start``, ``start + 1``, ... of one instance's history."""
    return [StoredEvent(instance_id, start + i, e, WALL + i) for i, e in enumerate(events)]


def every_kind() -> list[HistoryEvent]:
    """One or more events of every kind, with payloads, failures and odd values."""
    t = T0
    failure = FailureDetails('it broke: ünïcode "quotes"\n', "ValueError", "Traceback...\n")
    events: list[HistoryEvent] = [
        WorkflowStarted(timestamp=t),
        ExecutionStarted(
            timestamp=t,
            workflow_name="order",
            input='{"amount": 5000, "items": ["a", "b"]}',
            parent_instance_id="parent-1",
            parent_task_id=4,
        ),
        TaskScheduled(
            timestamp=t, task_id=1, activity_name="charge", input="42", task_execution_id="x-1"
        ),
        TaskScheduled(timestamp=t, task_id=2, activity_name="noop", app_id="other-app"),
        TimerCreated(timestamp=t, task_id=3, fire_at=t + timedelta(days=7)),
        TimerCreated(
            timestamp=t,
            task_id=4,
            fire_at=OPTIONAL_TIMER_FIRE_AT,
            origin="external_event",
            origin_name="Approval",
        ),
        ChildWorkflowInstanceCreated(
            timestamp=t, task_id=5, workflow_name="child", instance_id="child-1", input='"in"'
        ),
        WorkflowStarted(timestamp=t + timedelta(seconds=1)),
        TaskCompleted(timestamp=t, task_scheduled_id=1, result='"ok"'),
        TaskCompleted(timestamp=t, task_scheduled_id=2),
        TaskFailed(timestamp=t, task_scheduled_id=2, failure=failure),
        TaskFailed(timestamp=t, task_scheduled_id=2, failure=FailureDetails("m", "E")),
        TimerFired(timestamp=t + timedelta(days=7), timer_id=3, fire_at=t + timedelta(days=7)),
        EventRaised(timestamp=t, event_name="Approval", input='{"ok": true}'),
        EventRaised(timestamp=t, event_name="nothing"),
        ChildWorkflowInstanceCompleted(timestamp=t, task_scheduled_id=5, result="0"),
        ChildWorkflowInstanceFailed(timestamp=t, task_scheduled_id=5, failure=failure),
        ExecutionSuspended(timestamp=t, reason="maintenance"),
        ExecutionResumed(timestamp=t),
        ExecutionTerminated(timestamp=t, output='"stop"', recursive=False),
        ExecutionCompleted(timestamp=t, status="COMPLETED", result='""'),
        ExecutionCompleted(timestamp=t, status="FAILED", failure=failure),
        ExecutionCompleted(timestamp=t, status="TERMINATED"),
    ]
    expect({type(e) for e in events} == set(EVENT_TYPES.values()), "a kind of event is missing")
    return events


Contents = list[tuple[InstanceRecord, list[tuple[int, HistoryEvent]]]]


def contents(store: HistoryStore) -> Contents:
    """Every record, in creation order, with its history's (seq, event) pairs."""
    return [(r, [(s.seq, s.event) for s in store.history(r.instance_id)]) for r in store.records()]
