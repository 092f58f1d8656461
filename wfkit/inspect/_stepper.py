"""The replay stepper: a history applied to a private executor, one event at a time.

Every read model that needs the state of the code at a point of a history goes through
:class:`HistoryStepper`: the time-travel cursor and determinism check (``wfkit.timetravel``)
and the replayed instance the graph and timeline views read (:mod:`wfkit.inspect._replay`).
The executor is wfkit's own (``Orchestration.apply(..., replaying=True)``): no activity
runs and nothing is written.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

from wfkit.core._gc import gc_paused
from wfkit.core._history import OPTIONAL_TIMER_FIRE_AT, HistoryEvent, TimerCreated, TimerFired
from wfkit.core._orchestration import Orchestration, WorkflowInvoker
from wfkit.core._state import WorkflowStatus
from wfkit.core._task import TimerTask

#: Pending tasks a step lists (the rest are only counted).
MAX_PENDING = 100
#: How a replay that has not ended stands (the names of ``WorkflowStatus`` members; an
#: ended one reports its outcome's status).
NOT_STARTED = WorkflowStatus.PENDING.name
RUNNING = WorkflowStatus.RUNNING.name
SUSPENDED = WorkflowStatus.SUSPENDED.name


@dataclass(frozen=True)
class PendingTask:
    """A task the orchestrator waits for at a position."""

    task_id: int | None
    """Its task id (None for an external event wait)."""
    kind: str
    """``activity``, ``timer``, ``child`` or ``event``."""
    name: str | None
    """Activity, child workflow or event name."""
    fire_at: datetime | None = None
    """When a timer fires."""

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "kind": self.kind,
            "name": self.name,
            "fire_at": self.fire_at.isoformat() if self.fire_at else None,
        }


def workflow_status(status: str) -> WorkflowStatus:
    """The instance status a replay's status stands for (a generation that continued as
    new is running its next one)."""
    member = WorkflowStatus.__members__.get(status)
    return member if member is not None else WorkflowStatus.RUNNING


class HistoryStepper:
    """A history replayed through a private executor, one event at a time.

    Fills in what payload-less histories leave out, from the code: a fired timer without
    its timer id is the earliest pending timer, a timer without its origin gets the one
    the code's decision has (the resolved events replace the originals in ``events``).

    Args:
        code: the workflow code (an invoker), or a lookup of code by workflow name.
        events: the history, for :meth:`apply_to`; events can also be applied one by one
            with :meth:`step` as they arrive.
    """

    def __init__(
        self,
        instance_id: str,
        code: WorkflowInvoker | Callable[[str], WorkflowInvoker],
        events: list[HistoryEvent] | None = None,
    ):
        resolve: Callable[[str], WorkflowInvoker]
        if callable(getattr(code, "invoke", None)):
            invoker: Any = code
            resolve = lambda name: invoker  # noqa: E731
        else:
            resolve = code  # type: ignore[assignment]
        self.orchestration = Orchestration(instance_id, resolve)
        self.events = events if events is not None else []
        #: Position of the last event applied (-1: none yet).
        self.applied = -1
        #: Position of the event during which the code ended (returned, raised, stopped).
        self.ended_at: int | None = None
        #: Task ids of the timers that never fire (an indefinite event wait's), so far.
        self.optional_timers: list[int] = []

    # ------------------------------------------------------------------ applying
    def apply_to(self, n: int) -> None:
        """Apply the events of ``events`` after the last one applied, up to position ``n``."""
        i = self.applied + 1
        if i > n:
            return
        events = self.events
        with gc_paused():
            while i <= n:
                events[i] = self.step(events[i], i)
                i += 1

    def step(self, event: HistoryEvent, position: int) -> HistoryEvent:
        """Apply ``event`` (at ``position``, the next one); returns it as applied (a
        payload-less timer event with the details the code gives it)."""
        kind = type(event)
        if kind is TimerFired and event.timer_id < 0:  # type: ignore[attr-defined]
            event = self._resolve_fired(event)  # type: ignore[arg-type]
        elif kind is TimerCreated:
            if not event.origin:  # type: ignore[attr-defined]
                event = self._resolve_created(event)  # type: ignore[arg-type]
            if event.fire_at == OPTIONAL_TIMER_FIRE_AT:  # type: ignore[attr-defined]
                self.optional_timers.append(event.task_id)  # type: ignore[attr-defined]
        orchestration = self.orchestration
        orchestration.apply(event, replaying=True, position=position)
        if self.ended_at is None and orchestration.has_ended:
            self.ended_at = position
        self.applied = position
        return event

    def _resolve_fired(self, event: TimerFired) -> TimerFired:
        pending = [
            (task.fire_at, task_id)
            for task_id, task in self.orchestration.pending_tasks.items()
            if isinstance(task, TimerTask) and task.fire_at != OPTIONAL_TIMER_FIRE_AT
        ]
        if not pending:
            return event
        fire_at, task_id = min(pending)
        return TimerFired(timestamp=event.timestamp, timer_id=task_id, fire_at=fire_at)

    def _resolve_created(self, event: TimerCreated) -> TimerCreated:
        decision = self.orchestration.pending_decisions.get(event.task_id)
        if not isinstance(decision, TimerCreated):
            return TimerCreated(
                timestamp=event.timestamp,
                task_id=event.task_id,
                fire_at=event.fire_at,
                origin="create_timer",
                origin_name=event.origin_name,
            )
        return TimerCreated(
            timestamp=event.timestamp,
            task_id=event.task_id,
            fire_at=decision.fire_at,
            origin=decision.origin,
            origin_name=decision.origin_name,
        )

    # ------------------------------------------------------------------ where the code is
    def code_frame(self) -> FrameType | None:
        """The frame of the code: the innermost generator it is suspended in, or (once it
        has ended) the orchestrator's own frame as it was when it ended."""
        generator: Any = self.orchestration.generator
        if generator is None or generator.gi_frame is None:
            return self.orchestration.start_frame
        frame: FrameType = generator.gi_frame
        while True:
            sub = generator.gi_yieldfrom
            if not inspect.isgenerator(sub) or sub.gi_frame is None:
                return frame
            generator, frame = sub, sub.gi_frame

    def status(self) -> str:
        """PENDING (not started), RUNNING, SUSPENDED, or how it ended (COMPLETED, FAILED,
        TERMINATED, CONTINUED_AS_NEW)."""
        orchestration = self.orchestration
        outcome = orchestration.outcome
        if outcome is not None:
            return outcome.status
        if orchestration.workflow_name is None:
            return NOT_STARTED
        return SUSPENDED if orchestration.is_suspended else RUNNING

    @property
    def replay_error(self) -> str | None:
        """Why the replay could not follow the history (edited code, unknown workflow)."""
        failure = self.orchestration.replay_failure
        return f"{failure.error_type}: {failure.message}" if failure is not None else None

    def pending(self) -> tuple[tuple[PendingTask, ...], int]:
        """(the first :data:`MAX_PENDING` pending tasks and event waits, how many there
        are); tasks in the order they were scheduled (task ids grow), then event waits."""
        orchestration = self.orchestration
        if orchestration.outcome is not None:
            return (), 0
        tasks = orchestration.pending_tasks
        waits = orchestration.event_waits
        out: list[PendingTask] = []
        optional = scanned = 0
        for task_id, task in tasks.items():
            if len(out) >= MAX_PENDING:
                break
            scanned += 1
            fire_at = getattr(task, "fire_at", None)
            if fire_at == OPTIONAL_TIMER_FIRE_AT:
                optional += 1  # an event wait's timer that never fires: the wait is listed
                continue
            out.append(PendingTask(task_id, task.kind, task.name, fire_at))
        if scanned < len(tasks):  # count the rest from the timers the history created
            optional = sum(1 for task_id in self.optional_timers if task_id in tasks)
        out.extend(
            PendingTask(None, "event", wait.name) for wait in waits[: MAX_PENDING - len(out)]
        )
        return tuple(out), len(tasks) - optional + len(waits)
