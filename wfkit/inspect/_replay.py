"""What the widgets know of one instance: its tasks and the history events of each.

The tasks come from an executor: while the instance runs, the engine's own (read-only,
borrowed through ``Engine.orchestration``), so watching costs no second execution of the
workflow code; for an instance that finished before anyone watched it, a private replay of
its stored history (``Orchestration.apply(..., replaying=True)``), done once. Either way
``ctx.tasks`` holds every task the code created and ``yielded`` every task it yielded.

The history is indexed by task id as it grows (only the events added since the last
call are read). With a store that answers SQL the index reads a few narrow columns, and
payloads (inputs, results, failures) are fetched only for the events a view shows. A live
view is fed the events the engine hands its subscribers as it commits them
(:meth:`ReplayedInstance.catch_up`): the store is read once, when the view opens, and
again only if the events handed over leave a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from wfkit.core._history import FailureDetails
from wfkit.core._orchestration import Orchestration, WorkflowInvoker
from wfkit.core._task import CompletableTask, RetryableTask
from wfkit.inspect._history_source import (
    Entry,
    HistoryGap,
    HistorySource,
    LazyEntries,
    SqlHistorySource,
    event_payloads,
    source_for,
)
from wfkit.inspect._stepper import HistoryStepper
from wfkit.store import StoredEvent

__all__ = [
    "INNER_TIMERS",
    "Entry",
    "HistoryGap",
    "HistorySource",
    "ReplayedInstance",
    "SqlHistorySource",
    "source_for",
]

#: Timers that are part of another node (an event wait's timeout, a retry's delay).
INNER_TIMERS = frozenset({"external_event", "activity_retry", "child_workflow_retry"})

_SCHEDULING = frozenset({"TaskScheduled", "TimerCreated", "ChildWorkflowInstanceCreated"})
_CLOSING = frozenset(
    {
        "TaskCompleted",
        "TaskFailed",
        "ChildWorkflowInstanceCompleted",
        "ChildWorkflowInstanceFailed",
        "TimerFired",
    }
)


#: How the index files a stored event, by the event's kind: closing (by the attribute
#: holding the task id), scheduling (with the attribute naming the call, if any), or kept
#: whole (the few events looked up by something other than a task id).
_CLOSES = {
    "TaskCompleted": "task_scheduled_id",
    "TaskFailed": "task_scheduled_id",
    "ChildWorkflowInstanceCompleted": "task_scheduled_id",
    "ChildWorkflowInstanceFailed": "task_scheduled_id",
    "TimerFired": "timer_id",
}
#: Closing events that say their task finished without an error.
_SUCCEEDED = frozenset({"TaskCompleted", "ChildWorkflowInstanceCompleted"})
_SCHEDULES = {
    "TaskScheduled": "task_execution_id",
    "ChildWorkflowInstanceCreated": "instance_id",
    "TimerCreated": None,
}
_KEPT = frozenset({"EventRaised", "ExecutionStarted", "ExecutionCompleted"})


class ReplayedInstance:
    """The tasks of one instance and the history events that concern each of them.

    Args:
        resolve: registered workflow by name (``Registry.workflow``), for a private replay.
        orchestration: the engine's executor of the live instance, to read instead.
        source: where the history comes from (needed by :meth:`update`).
    """

    def __init__(
        self,
        instance_id: str,
        resolve: Callable[[str], WorkflowInvoker] | None = None,
        *,
        orchestration: Orchestration | None = None,
        source: HistorySource | None = None,
    ):
        self.instance_id = instance_id
        self._resolve = resolve
        self.source = source
        self.reset(orchestration)

    def reset(self, orchestration: Orchestration | None = None) -> None:
        """Start over (the history started over, or the live executor changed)."""
        self._use(orchestration)
        #: Number of history events indexed so far.
        self.seen = 0
        self.started: Entry | None = None
        self.finished: Entry | None = None
        #: task id -> the event that scheduled it (TaskScheduled, TimerCreated, child created)
        self.scheduled: dict[int, Entry] = LazyEntries()
        #: task id -> the event that closed it (completed, failed, timer fired)
        self.closed: dict[int, Entry] = LazyEntries()
        #: activity execution id or child instance id -> task id of its first attempt
        self.first_attempt: dict[str, int] = {}
        #: the same -> task ids of all its attempts, for the calls made more than once
        #: (one list per retried call only: a list for each of thousands of calls would
        #: be kept objects enough to trigger collections of the whole heap)
        self.calls: dict[str, list[int]] = {}
        #: event name (casefolded) -> EventRaised events, in arrival order
        self.raised: dict[str, list[Entry]] = {}
        #: task ids of the closing events, in history order (what changed since a point)
        self.closed_order: list[int] = []
        #: the task ids among them not closed by a success (a failure, a timer firing)
        self.closed_otherwise: set[int] = set()
        self._payloads: dict[int, tuple[str | None, Any]] = {}

    def _use(self, orchestration: Orchestration | None) -> None:
        #: The private replay (None while the engine's executor is read instead).
        self.stepper: HistoryStepper | None = None
        if orchestration is None:
            if self._resolve is None:
                raise ValueError("a replay needs the workflow registry (resolve)")
            self.stepper = HistoryStepper(self.instance_id, self._resolve)
            orchestration = self.stepper.orchestration
            self.borrowed = False
        else:
            self.borrowed = True
        self.orchestration = orchestration
        #: id(task) -> position of the task in ``ctx.tasks`` (stable node ids)
        self.index: dict[int, int] = {}
        #: the graph's counts of fan-outs, kept across builds (see graph_model)
        self.group_cache: dict[int, Any] = {}
        #: (the tasks list, how many of its tasks a drawing looked at, the positions of
        #: those no step or group awaited): see ``graph_model``'s ``unawaited``
        self.unawaited_scan: tuple[list[Any], int, list[int]] | None = None

    def adopt(self, orchestration: Orchestration) -> None:
        """Read the engine's executor of the same history from now on (it has run its
        first episode): the history indexed so far stays, the tasks are the executor's."""
        self._use(orchestration)
        self.index_tasks()

    # ------------------------------------------------------------------ feeding
    def update(self) -> int:
        """Read what the history gained since the last call; returns how many events."""
        if self.source is None:
            raise ValueError("update() needs a history source")
        if self.borrowed and self.source.narrow:
            return self.feed_entries(self.source.entries(self.seen))
        return self.feed(self.source.events(self.seen))

    def catch_up(self, events: list[StoredEvent]) -> int:
        """Index the events committed since the last call, as the engine handed them to
        its subscribers (in commit order; events already seen are skipped). The store is
        read only if they do not follow on from the events seen: a gap (a view opened
        late, a history that started over). Returns how many events were new."""
        before = self.seen
        try:
            self.feed(events)
        except HistoryGap:
            self.update()
            self.feed(events)  # the rest now follows on
        return self.seen - before

    def feed(self, events: Iterable[StoredEvent]) -> int:
        """Index (and, for a private replay, apply) stored events that follow the ones
        already seen; returns how many were new."""
        stepper = None if self.borrowed else self.stepper
        # stored events are filed as they are (an Entry is made when looked up, see LazyEntries)
        scheduled: dict[int, Any] = self.scheduled
        closed: dict[int, Any] = self.closed
        closed_order, otherwise = self.closed_order, self.closed_otherwise
        first_attempt = self.first_attempt
        closes, schedules = _CLOSES, _SCHEDULES
        seen = start = self.seen
        try:
            for stored in events:
                seq = stored.seq
                if seq != seen:
                    if seq < seen:
                        continue
                    raise HistoryGap(self.instance_id, seen, seq)
                event = stored.event
                if stepper is not None:
                    stepper.step(event, seq)
                seen += 1
                kind = type(event).__name__
                attr = closes.get(kind)
                if attr is not None:
                    task_id = getattr(event, attr)
                    closed[task_id] = stored
                    closed_order.append(task_id)
                    if kind not in _SUCCEEDED:
                        otherwise.add(task_id)
                elif kind in schedules:
                    task_id = event.task_id  # type: ignore[attr-defined]
                    scheduled[task_id] = stored
                    attr = schedules[kind]
                    call = getattr(event, attr) if attr is not None else None
                    if call and first_attempt.setdefault(call, task_id) != task_id:
                        self._call(call, task_id)
                elif kind in _KEPT:
                    self._keep(Entry.of(stored))
        finally:
            self.seen = seen
            self.index_tasks()
        return seen - start

    def _call(self, call: str, task_id: int) -> None:
        """Note an attempt of ``call`` (not the first one if ``first_attempt`` has it)."""
        first = self.first_attempt.setdefault(call, task_id)
        if first != task_id:
            ids = self.calls.get(call)
            if ids is None:
                self.calls[call] = [first, task_id]
            else:
                ids.append(task_id)

    def _keep(self, entry: Entry) -> None:
        if entry.kind == "EventRaised":
            self.raised.setdefault((entry.name or "").casefold(), []).append(entry)
        elif entry.kind == "ExecutionStarted":
            self.started = entry
        else:
            self.finished = entry

    def feed_entries(self, entries: Iterable[Any]) -> int:
        """Index entries (or raw SQL rows) that follow the ones already seen."""
        scheduled, closed = self.scheduled, self.closed
        closed_order = self.closed_order
        new = 0
        for item in entries:
            if isinstance(item, Entry):
                seq, kind, task_id, call = item.seq, item.kind, item.task_id, item.call
            else:
                seq, kind, task_id, _, _, _, call, _ = item
                task_id = None if task_id < 0 else task_id
            if seq < self.seen:
                continue
            if seq > self.seen:
                raise HistoryGap(self.instance_id, self.seen, seq)
            self.seen += 1
            new += 1
            if kind in _CLOSING:
                if task_id is not None:
                    closed[task_id] = item
                    closed_order.append(task_id)
                    if kind not in _SUCCEEDED:
                        self.closed_otherwise.add(task_id)
            elif kind in _SCHEDULING:
                if task_id is not None:
                    scheduled[task_id] = item
                    if isinstance(call, str) and call and kind != "TimerCreated":
                        self._call(call, task_id)
            elif kind in _KEPT:
                self._keep(item if isinstance(item, Entry) else Entry.of_row(item))
        self.index_tasks()
        return new

    def index_tasks(self) -> None:
        """Number the tasks created since the last call (their node ids)."""
        tasks = self.tasks
        index = self.index
        for position in range(len(index), len(tasks)):
            index[id(tasks[position])] = position

    def load_payloads(self, entries: Iterable[Entry | None]) -> None:
        """Fetch the payloads of ``entries`` that are not known yet, in one read."""
        missing = [e for e in entries if e is not None and e.seq not in self._payloads]
        if not missing:
            return
        with_events = [e for e in missing if e.event is not None]
        if with_events:
            self._payloads.update(event_payloads(with_events))
        rest = [e for e in missing if e.event is None]
        if rest and self.source is not None:
            self._payloads.update(self.source.payloads(rest))

    def payload(self, entry: Entry | None) -> tuple[str | None, FailureDetails | None]:
        """(payload JSON text, failure) of an event (loaded on demand)."""
        if entry is None:
            return None, None
        self.load_payloads([entry])
        return self._payloads.get(entry.seq, (None, None))

    # ------------------------------------------------------------------ the executor
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
        failure = self.orchestration.replay_failure
        return f"{failure.error_type}: {failure.message}" if failure is not None else None

    # ------------------------------------------------------------------ per task
    def attempts(self, task: CompletableTask) -> int:
        return task.attempt_count if isinstance(task, RetryableTask) else 1

    def task_ids(self, task: CompletableTask) -> list[int]:
        """The task ids of ``task``'s attempts that the history shows, oldest first
        (empty for an event wait)."""
        if task.task_id is None:
            return []
        if self.attempts(task) > 1:
            entry = self.scheduled.get(task.task_id)
            ids = self.calls.get(entry.call or "") if entry is not None else None
            if ids and len(ids) > 1:
                return ids
        return [task.task_id]

    def origin(self, task: CompletableTask) -> str | None:
        """What a timer is for: create_timer, external_event, activity_retry, ..."""
        if task.kind != "timer" or task.task_id is None:
            return None
        entry = self.scheduled.get(task.task_id)
        return entry.origin if entry is not None else None

    def child_instance_id(self, task: CompletableTask) -> str | None:
        entry = self.scheduled.get(task.task_id) if task.task_id is not None else None
        if entry is not None and entry.kind == "ChildWorkflowInstanceCreated":
            return entry.call
        return None

    def wait_started(self, task: CompletableTask) -> Entry | None:
        """When an event wait began: the creation of the timer that guards it (an event
        already buffered completes the wait at once: then its arrival)."""
        position = self.index.get(id(task))
        tasks = self.tasks
        if position is not None and position + 1 < len(tasks):
            timer = tasks[position + 1]
            if self.origin(timer) == "external_event" and timer.task_id is not None:
                return self.scheduled.get(timer.task_id)
        return self.event_received(task)

    def event_received(self, task: CompletableTask) -> Entry | None:
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
