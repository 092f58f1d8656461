"""What the widgets know of one instance: its tasks and the history events of each.

The tasks come from an executor: while the instance runs, the engine's own (read-only,
borrowed through ``Engine.orchestration``), so watching costs no second execution of the
workflow code; for an instance that finished before anyone watched it, a private replay of
its stored history (``Orchestration.apply(..., replaying=True)``), done once. Either way
``ctx.tasks`` holds every task the code created and ``yielded`` every task it yielded.

The history events are indexed by task id as they are fed (only the events added since
the last call), for timings, payloads and attempts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceCreated,
    ChildWorkflowInstanceFailed,
    EventRaised,
    ExecutionCompleted,
    ExecutionStarted,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from .._orchestration import Orchestration
from .._store import StoredEvent
from .._task import CompletableTask

#: Errors of the replay itself (not of the workflow): the graph reports them instead.
_REPLAY_ERRORS = ("NonDeterminismError", "WorkflowNotRegisteredError")
#: Timers that are part of another node (an event wait's timeout, a retry's delay).
INNER_TIMERS = frozenset({"external_event", "activity_retry", "child_workflow_retry"})

_SCHEDULING = (TaskScheduled, TimerCreated, ChildWorkflowInstanceCreated)
_CLOSING = (TaskCompleted, TaskFailed, ChildWorkflowInstanceCompleted, ChildWorkflowInstanceFailed)


class ReplayedInstance:
    """The tasks of one instance and the history events that concern each of them.

    Args:
        resolve: registered workflow by name (``Registry.workflow``), for a private replay.
        orchestration: the engine's executor of the live instance, to read instead.
    """

    def __init__(
        self,
        instance_id: str,
        resolve: Callable[[str], Any] | None = None,
        *,
        orchestration: Orchestration | None = None,
    ):
        self.instance_id = instance_id
        self._resolve = resolve
        self.reset(orchestration)

    def reset(self, orchestration: Orchestration | None = None) -> None:
        """Start over (the history started over, or the live executor changed)."""
        if orchestration is None:
            if self._resolve is None:
                raise ValueError("a replay needs the workflow registry (resolve)")
            orchestration = Orchestration(self.instance_id, self._resolve)
            self.borrowed = False
        else:
            self.borrowed = True
        self.orchestration = orchestration
        #: Number of history events fed so far.
        self.seen = 0
        self.started: StoredEvent | None = None
        self.finished: StoredEvent | None = None
        #: task id -> the event that scheduled it (TaskScheduled, TimerCreated, child created)
        self.scheduled: dict[int, StoredEvent] = {}
        #: task id -> the event that closed it (completed, failed, timer fired)
        self.closed: dict[int, StoredEvent] = {}
        #: activity execution id or child instance id -> task ids of its attempts
        self.calls: dict[str, list[int]] = {}
        #: event name (casefolded) -> EventRaised events, in arrival order
        self.raised: dict[str, list[StoredEvent]] = {}
        #: id(task) -> position of the task in ``ctx.tasks`` (stable node ids)
        self.index: dict[int, int] = {}

    @property
    def tasks(self) -> list[CompletableTask]:
        return self.orchestration.ctx.tasks

    @property
    def yielded(self) -> list[Any]:
        return self.orchestration.yielded

    @property
    def workflow_name(self) -> str | None:
        return self.orchestration.workflow_name

    @property
    def error(self) -> str | None:
        """Why the replay could not follow the history (edited code, unknown workflow)."""
        outcome = self.orchestration.outcome
        failure = outcome.failure if outcome is not None else None
        if failure is not None and failure.error_type in _REPLAY_ERRORS:
            return f"{failure.error_type}: {failure.message}"
        return None

    def feed(self, events: Iterable[StoredEvent]) -> int:
        """Index (and, for a private replay, apply) the events that follow the ones
        already seen; returns how many were new."""
        orchestration = None if self.borrowed else self.orchestration
        scheduled, closed, calls = self.scheduled, self.closed, self.calls
        new = 0
        for stored in events:
            if stored.seq < self.seen:
                continue
            if stored.seq > self.seen:
                raise ValueError(
                    f"history of {self.instance_id!r}: expected event {self.seen}, got {stored.seq}"
                )
            event = stored.event
            if orchestration is not None:
                orchestration.apply(event, replaying=True, position=stored.seq)
            self.seen += 1
            new += 1
            if isinstance(event, _CLOSING):
                closed[event.task_scheduled_id] = stored
            elif isinstance(event, _SCHEDULING):
                scheduled[event.task_id] = stored
                if isinstance(event, TaskScheduled):
                    key = event.task_execution_id
                elif isinstance(event, ChildWorkflowInstanceCreated):
                    key = event.instance_id
                else:
                    continue
                if key:
                    calls.setdefault(key, []).append(event.task_id)
            elif isinstance(event, TimerFired):
                closed[event.timer_id] = stored
            elif isinstance(event, EventRaised):
                self.raised.setdefault(event.event_name.casefold(), []).append(stored)
            elif isinstance(event, ExecutionStarted):
                self.started = stored
            elif isinstance(event, ExecutionCompleted):
                self.finished = stored
        self.index_tasks()
        return new

    def index_tasks(self) -> None:
        """Number the tasks created since the last call (their node ids)."""
        tasks = self.tasks
        index = self.index
        for position in range(len(index), len(tasks)):
            index[id(tasks[position])] = position

    # ------------------------------------------------------------------ per task
    def attempts(self, task: CompletableTask) -> int:
        return getattr(task, "attempt_count", 1)

    def task_ids(self, task: CompletableTask) -> list[int]:
        """The task ids of ``task``'s attempts that the history shows, oldest first
        (empty for an event wait)."""
        if task.task_id is None:
            return []
        if self.attempts(task) > 1:
            stored = self.scheduled.get(task.task_id)
            event = stored.event if stored is not None else None
            key = getattr(event, "task_execution_id", None) or getattr(event, "instance_id", None)
            ids = self.calls.get(key or "")
            if ids and len(ids) > 1:
                return ids
        return [task.task_id]

    def origin(self, task: CompletableTask) -> str | None:
        """What a timer is for: create_timer, external_event, activity_retry, ..."""
        if task.kind != "timer" or task.task_id is None:
            return None
        stored = self.scheduled.get(task.task_id)
        if stored is None or not isinstance(stored.event, TimerCreated):
            return None
        return stored.event.origin

    def child_instance_id(self, task: CompletableTask) -> str | None:
        stored = self.scheduled.get(task.task_id) if task.task_id is not None else None
        if stored is not None and isinstance(stored.event, ChildWorkflowInstanceCreated):
            return stored.event.instance_id
        return None

    def event_received(self, task: CompletableTask) -> StoredEvent | None:
        """The EventRaised that completed an event wait: the n-th completed wait for a
        name took the n-th event of that name (events are consumed first in, first out)."""
        if task.kind != "event" or not task.is_complete or task.is_failed:
            return None
        key = (task.name or "").casefold()
        n = 0
        for other in self.tasks:
            if other is task:
                break
            if (
                other.kind == "event"
                and other.is_complete
                and not other.is_failed
                and (other.name or "").casefold() == key
            ):
                n += 1
        events = self.raised.get(key, [])
        return events[n] if n < len(events) else None
