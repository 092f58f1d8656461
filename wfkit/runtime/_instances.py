"""What the engine keeps of the instances it runs: live instances, the steps and turns
that run their code, activity calls, and helpers to build and apply their events."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from wfkit.core._gc import BUSY
from wfkit.core._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceFailed,
    ExecutionStarted,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerFired,
    WorkflowStarted,
)
from wfkit.core._orchestration import Orchestration
from wfkit.core._propagation import PropagatedHistory
from wfkit.core._registry import Registered
from wfkit.core._state import InstanceRecord

START_TIMER = 0  # timer id of a scheduled start (``start_at``); real timers have ids >= 1
CLOSING_EVENTS = (
    TaskCompleted,
    TaskFailed,
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceFailed,
)


def episode_start(orchestration: Orchestration, started: WorkflowStarted) -> WorkflowStarted:
    """The ``WorkflowStarted`` an episode records once its code has run: ``started`` with
    the version and the patches the code found applied, as Dapr's sidecar records them."""
    version_name, patches = orchestration.version_stamp()
    if version_name is None and not patches:
        return started
    return replace(started, version_name=version_name, patches=patches)


@dataclass(slots=True)
class ActivityCall:
    """An activity execution handed to the pool (one attempt)."""

    instance_id: str
    generation: int
    decision: TaskScheduled
    propagated: PropagatedHistory | None = None
    #: The engine the result goes to, when this one runs it for another app's instance
    origin: Any = None
    #: The registered activity, looked up when the call is handed out
    activity: Registered | None = None


#: A pending timer of a live instance: when it fires, what made it (``TimerCreated``'s
#: origin) and the name it waits for. A tuple of plain values: the cycle collector stops
#: tracking it, which matters with a million instances waiting.
LiveTimer = tuple[datetime, str, str | None]


class OneTimer(Mapping[int, LiveTimer]):
    """The one pending timer of an instance, as a mapping: its fields in slots, a quarter
    of a one-entry dict and its tuple (a million instances each waiting on a timer)."""

    __slots__ = ("fire_at", "name", "origin", "task_id")

    def __init__(self, task_id: int, timer: LiveTimer):
        self.task_id = task_id
        self.fire_at, self.origin, self.name = timer

    def __getitem__(self, task_id: int) -> LiveTimer:
        if task_id != self.task_id:
            raise KeyError(task_id)
        return (self.fire_at, self.origin, self.name)

    def __contains__(self, task_id: object) -> bool:
        return task_id == self.task_id

    def __iter__(self) -> Iterator[int]:
        yield self.task_id

    def __len__(self) -> int:
        return 1


#: The timers of an instance that has none pending.
NO_TIMERS: Mapping[int, LiveTimer] = MappingProxyType({})


def add_timer_of(live: Live, task_id: int, timer: LiveTimer) -> None:
    """Note a pending timer of ``live``."""
    timers = live.timers
    if isinstance(timers, dict):
        timers[task_id] = timer
    elif timers:
        live.timers = {**timers, task_id: timer}
    else:
        live.timers = OneTimer(task_id, timer)


def pop_timer_of(live: Live, task_id: int) -> LiveTimer:
    """Take a pending timer of ``live`` (KeyError if it has none with that id)."""
    timers = live.timers
    if isinstance(timers, dict):
        return timers.pop(task_id)
    timer = timers[task_id]
    live.timers = NO_TIMERS
    return timer


#: The children of an instance that started none.
NO_CHILDREN: Mapping[str, int] = MappingProxyType({})


@dataclass(slots=True)
class Live:
    """A non-terminal instance: its executor and everything not yet in the history.
    Slotted, and holding no container it does not need: a million of these wait at once."""

    record: InstanceRecord
    orchestration: Orchestration | None = None
    #: Events not yet given to its code: an empty tuple when there are none (most of a
    #: million waiting instances), a list once one comes (see :func:`add_to_inbox`)
    inbox: list[HistoryEvent] | tuple[()] = ()
    history_len: int = 0
    generation: int = 0
    started: bool = False
    #: Its pending timers by task id: a shared empty mapping, one :class:`OneTimer`
    #: (what a waiting instance has), or a dict (see :func:`add_timer_of`)
    timers: Mapping[int, LiveTimer] = field(default_factory=lambda: NO_TIMERS)
    #: child id -> task id; a shared empty mapping until the first child (see
    #: :func:`add_child`)
    children: Mapping[str, int] = field(default_factory=lambda: NO_CHILDREN)
    propagated: str | None = None  # history handed down by the caller, for ExecutionStarted
    added: int = 0  # inbox events ever added
    applied: int = 0  # inbox events committed in an episode
    stale: bool = False  # its workflow was registered again: replay before the next event
    #: The detached turn still running this instance's code (see ``Engine._detach``)
    stuck: Turn | None = None
    #: Paused before its first episode (a ``start_at`` instance): it does not start
    paused: bool = False
    #: Odd from when its workflow code starts (no engine lock held then) until the
    #: episode is recorded: readers of the live executor compare it before and after
    code_epoch: int = 0
    #: The history its next turn replays before anything else (restored from the store)
    restoring: list[HistoryEvent] | None = None
    #: Client commands in its inbox that the store holds too (``Batch.inbox``): sent
    #: while it does not run (stuck, or not started yet), they survive a restart
    queued: tuple[HistoryEvent, ...] = ()


def drop_executor(live: Live) -> None:
    """Drop ``live``'s executor (it replays from the store when next needed), its tasks
    unlinked first (``Orchestration.release``)."""
    if live.orchestration is not None:
        live.orchestration.release()
        live.orchestration = None


def add_child(live: Live, child_id: str, task_id: int) -> None:
    """Note a child ``live`` started (under its task id)."""
    if not isinstance(live.children, dict):
        live.children = {}
    live.children[child_id] = task_id


def add_to_inbox(live: Live, events: Sequence[HistoryEvent]) -> None:
    """Add events at the end of ``live``'s inbox (a list from the first one on)."""
    if isinstance(live.inbox, list):
        live.inbox.extend(events)
    else:
        live.inbox = list(events)


class Step:
    """One instance's episode in a turn: what it was given, and what its code decided.
    A step with a ``history`` first replays it into a new executor (an instance evicted
    from memory, restored from the store, or running re-registered code); a
    ``restoring`` one does only that (its episode comes with its next event)."""

    __slots__ = (
        "added",
        "decisions",
        "done",
        "events",
        "history",
        "inbox",
        "live",
        "orchestration",
        "replay",
        "restoring",
        "starting",
    )

    def __init__(self, live: Live, added: int, starting: bool, inbox: Sequence[HistoryEvent]):
        self.live, self.added, self.starting, self.inbox = live, added, starting, inbox
        self.events: list[HistoryEvent] = []
        self.decisions: list[HistoryEvent] = []
        self.done = False
        self.replay = False
        self.restoring = False
        self.history: list[HistoryEvent] | None = None
        self.orchestration: Orchestration | None = None


class Turn:
    """A turn in progress: the thread running workflow code, and where it is. ``guard``
    (the engine's, shared by all turns) orders moving to a step against detaching."""

    __slots__ = ("current", "detached", "gc_paused", "guard", "step_started", "steps", "thread")

    def __init__(self, thread: threading.Thread, guard: threading.Lock):
        self.thread, self.guard = thread, guard
        self.steps: list[Step] = []
        self.current: Step | None = None
        self.detached = False
        #: when the current step's code began (monotonic seconds)
        self.step_started = 0.0
        self.gc_paused = False

    def pause_gc(self) -> bool:
        """Pause the cyclic garbage collector for the turn and those that follow it
        (``BusyPause``): a turn can build a burst of objects that live on (a 100k
        fan-out's tasks, decisions and history rows), each of which would otherwise set
        off passes over the whole heap. True if this began a pause."""
        self.gc_paused = True
        return BUSY.turn_started()

    def resume_gc(self, *, now: bool = False) -> None:
        """The turn no longer needs the pause: it ended (the pause ends if due), or it
        was detached (``now``: code that does not return must not keep the collector
        off)."""
        if self.gc_paused:
            self.gc_paused = False
            if now:
                BUSY.end()
            else:
                BUSY.end_if_due()


def execution_started(live: Live, now: datetime) -> ExecutionStarted:
    record = live.record
    return ExecutionStarted(
        timestamp=now,
        workflow_name=record.name,
        input=record.input,
        parent_instance_id=record.parent_instance_id,
        parent_task_id=record.parent_task_id,
        propagated=live.propagated,
    )


def apply_all(orchestration: Orchestration, events: list[HistoryEvent], *, replaying: bool) -> None:
    """Apply events to an executor; a BaseException from the workflow code (SystemExit,
    KeyboardInterrupt, GeneratorExit) fails the instance, never the thread running it."""
    try:
        if replaying:
            for position, event in enumerate(events):
                orchestration.apply(event, replaying=True, position=position)
        else:
            for event in events:
                orchestration.apply(event, replaying=False)
    except BaseException as exc:  # user code must not end the engine
        orchestration.fail(exc)


def unclosed_calls(history: list[HistoryEvent]) -> list[HistoryEvent]:
    """The scheduling events of ``history`` that no result or fired timer closed."""
    open_calls: dict[int, HistoryEvent] = {}
    for event in history:
        if event.is_scheduling:
            open_calls[event.event_id] = event
        elif isinstance(event, CLOSING_EVENTS):
            open_calls.pop(event.task_scheduled_id, None)
        elif isinstance(event, TimerFired):
            open_calls.pop(event.timer_id, None)
    return list(open_calls.values())


_RECORD_FIELDS = tuple(f.name for f in fields(InstanceRecord))


def updated_record(record: InstanceRecord, changes: dict[str, Any]) -> InstanceRecord:
    """``dataclasses.replace(record, **changes)`` at about half the cost (once per episode):
    the frozen record is filled slot by slot rather than through keyword arguments."""
    new = object.__new__(InstanceRecord)
    for name in _RECORD_FIELDS:
        object.__setattr__(new, name, changes[name] if name in changes else getattr(record, name))
    return new


@functools.cache
def activity_context_class() -> Any:
    from wfkit.runtime._runtime import WorkflowActivityContext  # the runtime imports the engine

    return WorkflowActivityContext


def now_wall() -> float:
    return time.time()
