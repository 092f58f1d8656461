"""The engine: runs instances on one background thread, in turns.

A turn runs one episode for every instance that is ready, commits everything the turn
wrote in one store transaction, and only then dispatches side effects (activities to the
thread pool or event loop, timers to the heap). Between turns it fires due timers (waking
itself when the next one is due while time flows) and, with a virtual clock and auto-skip
on, jumps to the next timer when someone is waiting for a result and nothing else can
progress.

One lock guards all engine state; client calls take it briefly, and callers that wait
(for completion, or for their command to be applied) wait on a condition of that lock.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import heapq
import itertools
import os
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from wfkit.core import _serde
from wfkit.core._clock import Clock, PendingTimer
from wfkit.core._errors import (
    AppNotFoundError,
    InstanceExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
    RuntimeNotStartedError,
    RuntimeStoppedError,
    StoreError,
    StoreWriteError,
    WfkitWarning,
)
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
from wfkit.core._orchestration import Orchestration, Outcome
from wfkit.core._propagation import PropagatedHistory, PropagationScope
from wfkit.core._registry import Registered, Registry, VersionedWorkflow
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.runtime import _apps
from wfkit.runtime._warm import WarmInstances
from wfkit.runtime._watchdog import Limits, Watchdog, where
from wfkit.runtime._workers import ActivityWorkers
from wfkit.store import Batch, HistoryStore, InboxStore, StoredEvent, is_read_only

_START = 0  # timer id of a scheduled start (``start_at``); real timers have ids >= 1
_CLOSING = (TaskCompleted, TaskFailed, ChildWorkflowInstanceCompleted, ChildWorkflowInstanceFailed)


def _episode_start(orchestration: Orchestration, started: WorkflowStarted) -> WorkflowStarted:
    """The ``WorkflowStarted`` an episode records once its code has run: ``started`` with
    the version and the patches the code found applied, as Dapr's sidecar records them."""
    version_name, patches = orchestration.version_stamp()
    if version_name is None and not patches:
        return started
    return replace(started, version_name=version_name, patches=patches)


@dataclass
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


@dataclass
class Live:
    """A non-terminal instance: its executor and everything not yet in the history."""

    record: InstanceRecord
    orchestration: Orchestration | None = None
    inbox: list[HistoryEvent] = field(default_factory=list)
    history_len: int = 0
    generation: int = 0
    started: bool = False
    timers: dict[int, PendingTimer] = field(default_factory=dict)
    children: dict[str, int] = field(default_factory=dict)  # child id -> task id
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
    queued: list[HistoryEvent] = field(default_factory=list)


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

    def __init__(self, live: Live, added: int, starting: bool, inbox: list[HistoryEvent]):
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

    __slots__ = ("current", "detached", "guard", "step_started", "steps", "thread")

    def __init__(self, thread: threading.Thread, guard: threading.Lock):
        self.thread, self.guard = thread, guard
        self.steps: list[Step] = []
        self.current: Step | None = None
        self.detached = False
        #: when the current step's code began (monotonic seconds)
        self.step_started = 0.0


def _execution_started(live: Live, now: datetime) -> ExecutionStarted:
    record = live.record
    return ExecutionStarted(
        timestamp=now,
        workflow_name=record.name,
        input=record.input,
        parent_instance_id=record.parent_instance_id,
        parent_task_id=record.parent_task_id,
        propagated=live.propagated,
    )


def _apply_all(
    orchestration: Orchestration, events: list[HistoryEvent], *, replaying: bool
) -> None:
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


def _open_calls(history: list[HistoryEvent]) -> list[HistoryEvent]:
    """The scheduling events of ``history`` that no result or fired timer closed."""
    open_calls: dict[int, HistoryEvent] = {}
    for event in history:
        if event.is_scheduling:
            open_calls[event.event_id] = event
        elif isinstance(event, _CLOSING):
            open_calls.pop(event.task_scheduled_id, None)
        elif isinstance(event, TimerFired):
            open_calls.pop(event.timer_id, None)
    return list(open_calls.values())


_RECORD_FIELDS = tuple(f.name for f in fields(InstanceRecord))


def _updated(record: InstanceRecord, changes: dict[str, Any]) -> InstanceRecord:
    """``dataclasses.replace(record, **changes)`` at about half the cost (once per episode):
    the frozen record is filled slot by slot rather than through keyword arguments."""
    new = object.__new__(InstanceRecord)
    for name in _RECORD_FIELDS:
        object.__setattr__(new, name, changes[name] if name in changes else getattr(record, name))
    return new


@functools.cache
def _activity_context_class() -> Any:
    from wfkit.runtime._runtime import WorkflowActivityContext  # the runtime imports the engine

    return WorkflowActivityContext


def _now_wall() -> float:
    return time.time()


class Engine:
    def __init__(
        self,
        registry: Registry,
        store: HistoryStore,
        clock: Clock,
        *,
        max_payload_bytes: int | None,
        max_workers: int | None = None,
        limits: Limits | None = None,
        warm_instances: int | None = None,
        app_id: str = _apps.DEFAULT_APP_ID,
    ):
        self.app_id = app_id
        #: Children run here for instances of other apps: child id -> the parent's engine
        self._parents: dict[str, Engine] = {}
        #: Commands for stalled instances, applied once their version is registered
        self._held: dict[str, list[HistoryEvent]] = {}
        self._told: set[str] = set()  # instances a warning said wait for their workflow
        self.registry = registry
        self.limits = limits or Limits()
        self.store = store
        self.clock = clock
        self.limit = max_payload_bytes
        self._max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._subscribers: list[Callable[[Batch], None]] = []
        #: (instance id, task id) of the activities running now -> (wall start, name)
        self._executing: dict[tuple[str, int], tuple[float, str]] = {}
        #: Recent warnings and errors (stuck turns, stalled activities, store writes)
        self.problems: collections.deque[str] = collections.deque(maxlen=100)
        #: Why the store refuses writes now (None when the last commit went through)
        self.write_error: StoreWriteError | None = None
        #: Why the engine thread ended, if it ended on an error
        self.failure: BaseException | None = None
        self._stalled: set[tuple[str, int]] = set()  # reported already
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._changed = threading.Condition(self._lock)
        self._records: dict[str, InstanceRecord] = {r.instance_id: r for r in store.records()}
        self._live: dict[str, Live] = {}
        #: Instances that run code of their own instead of the registered workflow (forks)
        self._code: dict[str, Registered] = {}
        self._ready: dict[str, None] = {}
        #: running instances whose executor is in memory (the others replay when needed)
        self._warm = WarmInstances(warm_instances)
        self._timers: list[tuple[datetime, int, str, int, int]] = []
        self._timer_order = itertools.count()
        self._inflight = 0
        #: Instances that callers wait for and allow to jump time (auto-skip)
        self._awaited: Counter[str] = Counter()
        #: What auto-skip decided over an event wait, for the waiters to warn about
        self._races: collections.deque[str] = collections.deque(maxlen=32)
        self._race_count = 0
        self._batch = Batch()
        self._dispatch: list[ActivityCall] = []
        #: finished activity calls not yet delivered, and whether a thread is delivering
        #: them (see ``_activities_done``); guarded by ``_arrival``
        self._arrival = threading.Lock()
        self._arrived: list[tuple[ActivityCall, Any, BaseException | None]] = []
        self._delivering = False
        self._thread: threading.Thread | None = None
        self._workers: ActivityWorkers[ActivityCall] | None = None
        self._watchdog: Watchdog | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._stopping = False
        # Waiters are woken only when what they wait for may have changed: a status, or
        # the progress that command and clock waiters (counted here) watch.
        self._status_changed = False
        self._watchers = 0
        # The turn in progress, on the engine thread or on an activity worker that runs the
        # turn its results made ready (so a chain runs on one thread, without hand-offs).
        self._active_turn: Turn | None = None
        self._guard = threading.Lock()
        clock._attach(self)
        # A reopened store: the virtual clock goes on from the latest time it recorded.
        recorded = store.clock_time()
        resume = getattr(clock, "_resume", None)
        if recorded is not None and resume is not None:
            resume(recorded)
        self._clock_committed = recorded if clock.is_virtual else None
        # Unfinished instances in the store are replayed at the first start() (or client
        # command), once the workflows they run have been registered: in a turn, like any
        # workflow code. Those whose replay has not run yet:
        self._recovered = False
        self._restoring: set[str] = set()

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._ensure_recovered()
            self._stopping = False
            self.failure = None
            self._workers = ActivityWorkers(
                self._max_workers,
                self._run_sync,
                lambda done: self._activities_done(done, run_turn=True),
            )
            self._start_thread()
            self._watchdog = Watchdog(self)
            # activities handed out before a previous shutdown, or restored from the store
            pending, self._dispatch = self._dispatch, []
            self._submit(pending)
            self._wait_restored()

    def _wait_restored(self) -> None:
        """Wait (engine lock held, released while waiting) until the instances restored
        from the store have replayed in a turn, or are stuck replaying."""
        if self._restoring and self.running and not self._in_turn():
            self._wake.notify()
            self._watch(
                lambda: (
                    not self.running
                    or all(
                        self._live[i].stuck is not None for i in self._restoring if i in self._live
                    )
                )
            )

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wfkit-engine", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop; returns within ``limits.shutdown_seconds``: workflow code or activities
        still running then are abandoned (what they were doing runs again at the next
        start, as after a crash)."""
        deadline = time.monotonic() + self.limits.shutdown_seconds
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
            self._changed.notify_all()
            thread, self._thread = self._thread, None
            if self._watchdog is not None:
                self._watchdog.stop()
                self._watchdog = None
        if thread is not None and thread is not threading.current_thread():
            turn = self._active_turn
            wait = max(0.0, deadline - time.monotonic())
            if turn is not None and turn.thread is thread:  # it runs workflow code
                wait = min(wait, 1.0)
            thread.join(wait)
        with self._lock:
            if self._active_turn is not None:  # workflow code that still runs: let it go
                self._detach(self._active_turn, restart=False)
        if self._workers is not None:
            left = self._workers.shutdown(max(0.0, deadline - time.monotonic()))
            self._workers = None
            with self._lock:  # not finished: hand them out again at the next start()
                self._inflight -= len(left)
                self._dispatch[:0] = left
                self._executing.clear()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._loop_thread is not None:
                self._loop_thread.join(max(0.0, deadline - time.monotonic()))
            if not (self._loop_thread and self._loop_thread.is_alive()):
                self._loop.close()
            self._loop = None

    def hand_over(self) -> None:
        """Stop for good, leaving the store to another engine: what was committed is what
        the other engine resumes (activities not yet reported run again, as after a
        restart)."""
        self.shutdown()
        with self._lock:
            self._commit()  # the virtual time reached, for the next engine's clock

    def _run(self) -> None:
        me = threading.current_thread()
        try:
            with self._lock:
                while not self._stopping and self._thread is me:
                    if self._turn():
                        continue
                    timeout = None
                    if self.clock.flows and self._timers:
                        timeout = (self._timers[0][0] - self.clock.now()).total_seconds()
                        timeout = min(max(0.0, timeout), 1.0)
                    self._wake.wait(timeout)
        except BaseException as exc:  # recorded: every client call reports it
            self.failure = exc
            self._problem(f"the engine stopped: {type(exc).__name__}: {exc}")
            with self._lock:
                self._changed.notify_all()

    def _turn(self) -> bool:
        """One step of the engine; False when nothing could progress."""
        if self._ready and self._active_turn is None:
            self._run_ready()
            return True
        if self._fire_due_timers():
            return True
        return self._auto_skip()

    # ------------------------------------------------------------------ episodes
    def _run_ready(self) -> None:
        """Run one episode for every ready instance (engine lock held once by the caller).

        The workflow code runs with the lock released, so client calls answer while it
        runs; one turn runs at a time. A turn the watchdog finds running too long is
        detached from the engine (``_detach``), which goes on without it."""
        if self._active_turn is not None:
            return
        turn = self._active_turn = Turn(threading.current_thread(), self._guard)
        for instance_id in self._ready:
            live = self._live.get(instance_id)
            if live is not None and live.stuck is None:
                turn.steps.append(self._step(live))
        self._ready.clear()
        self._read_replays(turn.steps)
        now = self.clock.now()
        self._lock.release()
        try:
            for step in turn.steps:
                with turn.guard:
                    if turn.detached:
                        break
                    turn.current = step
                    turn.step_started = time.monotonic()
                self._run_code(step, now)
        finally:
            with turn.guard:
                if not turn.detached:
                    turn.current = None  # no code runs now: waiting for the lock is not stuck
            self._lock.acquire()
        if turn.detached:
            self._late(turn)
            return
        self._active_turn = None
        with contextlib.suppress(StoreWriteError):  # recorded: write_error, problems
            self._settle(turn.steps, now)

    def _step(self, live: Live) -> Step:
        """The step of a ready instance in the turn being formed (engine lock held)."""
        instance_id = live.record.instance_id
        if live.restoring is not None:  # its inbox waits for the episode after the replay
            step = Step(live, live.applied, False, [])
            step.restoring, step.history = True, live.restoring
            return step
        step = Step(live, live.added, not live.started, live.inbox)
        step.replay = live.started and (
            live.orchestration is None
            or live.stale
            or self.workflow_code(instance_id, live.record.name).delegates
        )
        live.stale = False
        self._warm.ran(instance_id)
        live.started = True
        live.inbox = []
        return step

    def _read_replays(self, steps: list[Step]) -> None:
        """Read the histories the steps replay, together (engine lock held: the store
        is read with no commit under way; the replay itself runs without the lock)."""
        ids = [s.live.record.instance_id for s in steps if s.replay]
        if not ids:
            return
        histories = self._histories(ids)
        for step in steps:
            if step.replay:
                step.history = histories[step.live.record.instance_id]

    def _histories(self, instance_ids: list[str]) -> dict[str, list[HistoryEvent]]:
        """The histories of running instances: committed, then in the open batch."""
        batch = self._batch
        stored = self.store.histories([i for i in instance_ids if i not in batch.resets])
        out = {i: [s.event for s in stored.get(i, ())] for i in instance_ids}
        if batch.events:
            for s in batch.events:
                events = out.get(s.instance_id)
                if events is not None:
                    events.append(s.event)
        return out

    def _settle(self, steps: list[Step], now: datetime) -> None:
        """Record what the code of finished steps decided, commit, wake who waits."""
        for step in steps:
            self._record_step(step, now)
        try:
            self._commit()
            for step in steps:  # what command waiters wait for (not on a refused write)
                step.live.applied = step.added
            self._evict_idle()
        finally:
            if self._ready:
                self._wake.notify()
            if self._status_changed or self._watchers:
                self._status_changed = False
                self._changed.notify_all()

    def _run_code(self, step: Step, now: datetime) -> None:
        """Run the workflow code of one episode (no engine lock held): replay its history
        first if the step has one, then apply what it was given."""
        live = step.live
        live.code_epoch += 1
        if step.history is not None:
            replayed = self._new_orchestration(live.record.instance_id)
            _apply_all(replayed, step.history, replaying=True)
            live.orchestration = replayed
            if step.restoring:
                step.orchestration = replayed
                step.done = True
                return
        events: list[HistoryEvent] = [WorkflowStarted(timestamp=now)]
        if step.starting:
            live.orchestration = self._new_orchestration(live.record.instance_id)
            events.append(_execution_started(live, now))
        events.extend(step.inbox)
        orchestration = live.orchestration
        assert orchestration is not None
        _apply_all(orchestration, events, replaying=False)
        step.orchestration = orchestration
        step.events = events
        step.decisions = orchestration.take_decisions()
        step.done = True

    def _record_step(self, step: Step, now: datetime) -> None:
        """Record a finished step (engine lock held)."""
        live = step.live
        live.code_epoch += 1  # even again: the episode is recorded (lock held)
        if step.restoring:
            live.restoring = None
            self._restoring.discard(live.record.instance_id)
            history = step.history or []
            live.orchestration = step.orchestration
            self._reissue(live, history)
            if live.inbox and live.record.instance_id in self._live:
                self._ready[live.record.instance_id] = None
            return
        self._unqueue(live, step.inbox)
        self._episode(step, now)

    def _episode(self, step: Step, now: datetime) -> None:
        live = step.live
        orchestration = step.orchestration
        assert orchestration is not None
        live.orchestration = orchestration
        events, decisions = step.events, step.decisions
        outcome = orchestration.outcome
        if outcome is not None and outcome.status == "CONTINUED_AS_NEW":
            self._hand_down_to_next_generation(live, [*events, *decisions])
            self._continue_as_new(live, outcome, now)
            return
        events[0] = _episode_start(orchestration, events[0])  # type: ignore[arg-type]
        events.extend(decisions)
        if outcome is not None:
            events.append(
                ExecutionCompleted(
                    timestamp=now,
                    status=outcome.status,
                    result=outcome.result,
                    failure=outcome.failure,
                )
            )
        self._append(live, events)
        self._apply_decisions(live, decisions)
        if outcome is not None:
            recursive = any(isinstance(e, ExecutionTerminated) and e.recursive for e in events)
            self._finish(live, outcome, now, recursive=recursive)
        else:
            status = (
                WorkflowStatus.SUSPENDED if orchestration.is_suspended else WorkflowStatus.RUNNING
            )
            self._update(live, now, status=status, custom_status=orchestration.custom_status)

    def _detach(self, turn: Turn, *, restart: bool) -> None:
        """Go on without a turn whose workflow code does not return (engine lock held):
        the steps it finished are recorded, those it had not begun are given back, and
        the instance it is running is marked stuck (it can be terminated; if its code
        ever returns, ``_late`` records the result). ``restart``: if the turn runs on the
        engine thread, start a new one."""
        with turn.guard:
            turn.detached = True
            stuck = turn.current
        self._active_turn = None
        finished = [s for s in turn.steps if s.done and s is not stuck]
        for step in turn.steps:
            if not step.done and step is not stuck:
                live = step.live
                live.inbox[:0] = step.inbox
                live.started = live.started and not step.starting
                live.stale = live.stale or step.replay  # replayed when it runs after all
                self._ready[live.record.instance_id] = None
        if stuck is not None:
            stuck.live.stuck = turn
            self._changed.notify_all()
        if restart and turn.thread is self._thread and not self._stopping:
            self._start_thread()
        with self._arrival:  # if it was delivering activity results, another one takes over
            self._delivering, arrived, self._arrived = False, self._arrived, []
        if arrived:
            self._deliver_results(arrived, run_turn=False)
        with contextlib.suppress(StoreError):  # recorded: write_error, problems
            self._settle(finished, self.clock.now())
        self._wake.notify()

    def _late(self, turn: Turn) -> None:
        """A detached turn has returned (engine lock held): record its stuck instance's
        episode, unless the instance was terminated meanwhile."""
        step = turn.current
        if step is None or not step.done or step.live.stuck is not turn:
            return
        live = step.live
        live.stuck = None
        if live.inbox:
            self._ready[live.record.instance_id] = None
        if self._stopping:  # the store may be closed: recorded at the next commit
            self._record_step(step, self.clock.now())
            return
        with contextlib.suppress(StoreError):
            self._settle([step], self.clock.now())

    def _terminate_now(
        self, live: Live, event: ExecutionTerminated, given: list[HistoryEvent]
    ) -> None:
        """End an instance TERMINATED without running its code: one whose code is stuck in
        a detached turn (the turn is abandoned; ``given``: the events it was running on),
        or one that has not started (its code never runs). Events that came meanwhile are
        recorded before the termination, as Dapr records an inbox."""
        live.stuck = None
        now = self.clock.now()
        started = [] if live.started else [_execution_started(live, now)]
        given = [*given, *(e for e in live.inbox if all(e is not g for g in given))]
        live.inbox = []
        self._unqueue(live, given)
        self._append(
            live,
            [
                WorkflowStarted(timestamp=now),
                *started,
                *given,
                event,
                ExecutionCompleted(timestamp=now, status="TERMINATED", result=event.output),
            ],
        )
        outcome = Outcome("TERMINATED", event.output)
        self._finish(live, outcome, now, recursive=event.recursive)
        self._commit()
        self._changed.notify_all()

    def _check_health(self) -> None:
        """Called by the watchdog: report (and detach) a stuck turn, report stalled
        activities, retry a commit the store refused."""
        limits, now = self.limits, time.monotonic()
        turn = self._active_turn
        if turn is not None and now - turn.step_started > limits.stuck_turn_seconds:
            with self._lock:
                step = turn.current
                if self._active_turn is not turn or step is None:
                    return
                self._detach(turn, restart=True)
            orchestration = step.live.orchestration
            name = orchestration.workflow_name if orchestration else step.live.record.name
            self._warn(
                f"workflow instance {step.live.record.instance_id!r} ({name}) has run its "
                f"code for over {limits.stuck_turn_seconds:g} s without yielding, at "
                f"{where(turn.thread)}. A workflow must yield tasks; do slow work in an "
                "activity. The runtime goes on without it; terminate_workflow ends it."
            )
        stall = limits.stalled_activity_seconds
        if stall is not None:
            for key, (started, name) in list(self._executing.items()):
                if now - started > stall and key not in self._stalled:
                    self._stalled.add(key)
                    self._warn(
                        f"activity {name!r} (instance {key[0]!r}, task {key[1]}) has run for "
                        f"over {stall:g} s"
                    )
            self._stalled &= self._executing.keys()
        if self.write_error is not None and self._active_turn is None:
            with self._lock, contextlib.suppress(StoreError):
                self._commit()
                self._changed.notify_all()

    @property
    def error(self) -> str | None:
        """Why the engine cannot go on as it should (see ``WorkflowRuntime.error``)."""
        if self.failure is not None:
            return f"the engine stopped: {type(self.failure).__name__}: {self.failure}"
        return str(self.write_error) if self.write_error is not None else None

    def _problem(self, message: str) -> None:
        self.problems.append(message)

    def _warn(self, message: str) -> None:
        try:
            warnings.warn(message, WfkitWarning, stacklevel=2)
        finally:  # recorded once warned (even when warnings are errors)
            self._problem(message)

    def _evict_idle(self) -> None:
        """Drop the executors of the least recently run instances beyond the warm limit
        (after the commit: their histories are in the store to replay from)."""
        for instance_id in self._warm.over_limit(self._busy):
            self._live[instance_id].orchestration = None

    def _busy(self, instance_id: str) -> bool:
        live = self._live.get(instance_id)
        return (
            live is None or bool(live.inbox) or instance_id in self._ready or live.stuck is not None
        )

    def _in_active_turn(self, live: Live) -> bool:
        turn = self._active_turn
        return turn is not None and any(step.live is live for step in turn.steps)

    def code_replaced(self, name: str) -> None:
        """Running instances of workflow ``name`` replay with the code registered now at
        their next event, as on Dapr (which replays at every event)."""
        with self._lock:
            for instance_id, live in self._live.items():
                if live.record.name == name and live.started and instance_id not in self._code:
                    live.stale = True

    def _new_orchestration(self, instance_id: str) -> Orchestration:
        code = self._code.get(instance_id)
        resolve = self.registry.workflow if code is None else (lambda name: code)
        return Orchestration(instance_id, resolve, max_payload_bytes=self.limit)

    def _append(self, live: Live, events: list[HistoryEvent]) -> None:
        wall = _now_wall()
        instance_id = live.record.instance_id
        base = live.history_len
        self._batch.events.extend(
            StoredEvent(instance_id, base + i, e, wall) for i, e in enumerate(events)
        )
        live.history_len = base + len(events)

    def _update(self, live: Live, now: datetime, **changes: Any) -> None:
        record = live.record
        if changes.get("status", record.status) is not record.status:
            self._status_changed = True
        changes["last_updated_at"] = now
        if not all(getattr(record, name) == value for name, value in changes.items()):
            live.record = _updated(record, changes)
        # put even when unchanged: observers take a record in the batch as progress
        self._put(live.record)

    def _put(self, record: InstanceRecord) -> None:
        self._records[record.instance_id] = record
        self._batch.records[record.instance_id] = record

    def _apply_decisions(self, live: Live, decisions: list[HistoryEvent]) -> None:
        instance_id = live.record.instance_id
        for decision in decisions:
            match decision:
                case TaskScheduled():
                    propagated = self._propagation(live, decision)
                    self._dispatch.append(
                        ActivityCall(instance_id, live.generation, decision, propagated)
                    )
                case TimerCreated() if not decision.is_optional:
                    self._add_timer(
                        live,
                        decision.task_id,
                        decision.fire_at,
                        decision.origin,
                        decision.origin_name,
                    )
                case ChildWorkflowInstanceCreated():
                    live.children[decision.instance_id] = decision.task_id
                    self._start_child(live, decision)

    def _start_child(self, parent: Live, decision: ChildWorkflowInstanceCreated) -> None:
        propagated = self._propagation(parent, decision)
        handed = propagated.to_json() if propagated is not None else None
        if decision.app_id not in (None, self.app_id):
            parent_id = parent.record.instance_id
            _apps.post(functools.partial(_apps.start_child, self, parent_id, decision, handed))
            return
        existing = self._live.get(decision.instance_id)
        if existing is not None:
            failure = FailureDetails(
                f"a workflow instance with id {decision.instance_id!r} is already running",
                InstanceExistsError.__name__,
            )
            self._deliver(
                parent,
                ChildWorkflowInstanceFailed(
                    timestamp=self.clock.now(), task_scheduled_id=decision.task_id, failure=failure
                ),
            )
            return
        child = self._create(
            decision.instance_id,
            decision.workflow_name,
            decision.input,
            None,
            parent=(parent.record.instance_id, decision.task_id),
        )
        child.propagated = handed

    def _propagation(
        self, live: Live, decision: TaskScheduled | ChildWorkflowInstanceCreated
    ) -> PropagatedHistory | None:
        """What a call made with ``propagation=`` hands down: the caller's history up to
        and including the call's scheduling event (as Dapr's engine assembles it)."""
        scope = PropagationScope(decision.propagation)
        if scope is PropagationScope.NONE:
            return None
        received = live.orchestration.ctx.get_propagated_history() if live.orchestration else None
        events = self._history_so_far(live)
        end = next(i for i, e in enumerate(events) if type(e) is type(decision) and e == decision)
        return PropagatedHistory.assemble(
            scope,
            events[: end + 1],
            received,
            app_id=self.app_id,
            instance_id=live.record.instance_id,
        )

    def _hand_down_to_next_generation(self, live: Live, episode: list[HistoryEvent]) -> None:
        """A workflow that received history and continues as new hands it on, with its
        previous generation as one more chunk (as Dapr's engine does)."""
        received = live.orchestration.ctx.get_propagated_history() if live.orchestration else None
        if received is None:
            return
        handed = PropagatedHistory.assemble(
            received.scope,
            [*self._history_so_far(live), *episode],
            received,
            app_id=self.app_id,
            instance_id=live.record.instance_id,
        )
        live.propagated = handed.to_json() if handed is not None else None

    def _history_so_far(self, live: Live) -> list[HistoryEvent]:
        """The instance's events committed or in the open batch, in order."""
        instance_id = live.record.instance_id
        by_seq: dict[int, HistoryEvent] = {}
        if instance_id not in self._batch.resets:
            by_seq.update((s.seq, s.event) for s in self.store.history(instance_id))
        by_seq.update((s.seq, s.event) for s in self._batch.events if s.instance_id == instance_id)
        return [by_seq[seq] for seq in sorted(by_seq)]

    def _continue_as_new(self, live: Live, outcome: Outcome, now: datetime) -> None:
        instance_id = live.record.instance_id
        for timer_id in list(live.timers):
            live.timers.pop(timer_id)
        self._batch.events = [e for e in self._batch.events if e.instance_id != instance_id]
        self._batch.resets.add(instance_id)
        live.generation += 1
        live.history_len = 0
        live.started = False
        live.orchestration = None
        self._warm.forget(instance_id)
        live.children.clear()
        live.inbox = [
            EventRaised(timestamp=now, event_name=name, input=_serde.encode(value))
            for name, value in outcome.carryover
        ]
        self._update(
            live, now, status=WorkflowStatus.RUNNING, input=outcome.result, custom_status=None
        )
        self._ready[instance_id] = None

    def _finish(self, live: Live, outcome: Outcome, now: datetime, *, recursive: bool) -> None:
        instance_id = live.record.instance_id
        status = WorkflowStatus[outcome.status]
        orchestration = live.orchestration
        self._update(
            live,
            now,
            status=status,
            output=outcome.result,
            failure=outcome.failure,
            custom_status=orchestration.custom_status
            if orchestration
            else live.record.custom_status,
        )
        del self._live[instance_id]
        self._warm.forget(instance_id)
        self._ready.pop(instance_id, None)
        self._restoring.discard(instance_id)
        if live.queued:
            self._unqueue(live, live.queued)
        if status is WorkflowStatus.TERMINATED and recursive:
            for child_id in live.children:
                child = self._live.get(child_id)
                if child is not None:
                    self._enqueue(child, ExecutionTerminated(timestamp=now, output=outcome.result))
        parent_id, task_id = live.record.parent_instance_id, live.record.parent_task_id
        parent = self._live.get(parent_id or "")
        elsewhere = self._parents.pop(instance_id, None)  # a parent of another app
        if task_id is None or (parent is None and elsewhere is None):
            return
        if parent is not None and parent.children.get(instance_id) != task_id:
            return
        event: HistoryEvent
        if status is WorkflowStatus.COMPLETED:
            event = ChildWorkflowInstanceCompleted(
                timestamp=now, task_scheduled_id=task_id, result=outcome.result
            )
        else:
            failure = outcome.failure or FailureDetails(
                f"child workflow {instance_id!r} was terminated", "WorkflowTerminatedError"
            )
            event = ChildWorkflowInstanceFailed(
                timestamp=now, task_scheduled_id=task_id, failure=failure
            )
        if parent is not None:
            self._deliver(parent, event)
        elif elsewhere is not None and parent_id is not None:
            _apps.post(functools.partial(elsewhere.child_done, parent_id, instance_id, event))

    # ------------------------------------------------------------------ calls between apps
    def run_for(self, call: ActivityCall) -> None:
        """Run an activity call another app's instance made here (``call.origin`` gets the
        result)."""
        with self._lock:
            if self.running:
                self._submit([call])
                return
        stopped = AppNotFoundError(
            f"app {self.app_id!r} stopped before it could run activity "
            f"{call.decision.activity_name!r}; start its runtime again"
        )
        call.origin._activities_done([(call, None, stopped)])

    def adopt_child(
        self,
        origin: Engine,
        parent_id: str,
        call: ChildWorkflowInstanceCreated,
        propagated: str | None = None,
    ) -> None:
        """Run a child workflow here for a parent of another app (``origin``); a parent
        replayed after a restart asks again, and finds its child running or its result."""
        with self._lock:
            self._ensure_recovered()
            self._parents[call.instance_id] = origin
            record = self._records.get(call.instance_id)
            if call.instance_id in self._live:
                return
            if (
                record is not None
                and record.status.is_terminal
                and (record.parent_instance_id, record.parent_task_id) == (parent_id, call.task_id)
            ):  # a replayed parent asking for what it was owed (a retry has a new task id)
                event = self._child_result(record, call.task_id, self.clock.now())
                self._parents.pop(call.instance_id)
                _apps.post(functools.partial(origin.child_done, parent_id, call.instance_id, event))
                return
            child = self._create(
                call.instance_id,
                call.workflow_name,
                call.input,
                None,
                parent=(parent_id, call.task_id),
            )
            child.propagated = propagated
            self._commit()
            self._wake.notify()

    def child_done(self, parent_id: str, child_id: str, event: HistoryEvent) -> None:
        """The result of a child workflow that ran on another app."""
        with self._lock:
            live = self._live.get(parent_id)
            if live is not None and live.children.get(child_id) == event.task_scheduled_id:  # type: ignore[attr-defined]
                self._enqueue(live, event)

    def child_failed(
        self, parent_id: str, call: ChildWorkflowInstanceCreated, error: Exception
    ) -> None:
        """A child workflow that could not start on another app."""
        event = ChildWorkflowInstanceFailed(
            timestamp=self.clock.now(),
            task_scheduled_id=call.task_id,
            failure=FailureDetails.of(error),
        )
        self.child_done(parent_id, call.instance_id, event)

    def _deliver(self, live: Live, event: HistoryEvent) -> None:
        """Engine-internal delivery (timer, activity or child result)."""
        live.inbox.append(event)
        live.added += 1
        if live.stuck is None:
            self._ready[live.record.instance_id] = None

    def _enqueue(self, live: Live, event: HistoryEvent) -> int:
        self._deliver(live, event)
        self._wake.notify()
        return live.added

    def _commit(self) -> None:
        """Commit what the engine wrote since the last commit. A batch the store refuses
        stays pending (retried with the next commit, and by the watchdog): the error is
        kept in ``write_error`` and raised as a ``StoreWriteError``."""
        batch, self._batch = self._batch, Batch()
        # virtual time is recorded with every commit, and on its own when it moved
        now = self.clock.now() if self.clock.is_virtual else None
        if batch or now != self._clock_committed:
            batch.clock_time = now
            try:
                self.store.commit(batch)
            except Exception as exc:
                self._batch = batch  # nothing else was written since the swap
                self.write_error = StoreWriteError(
                    f"the store {self.store!r} refused a write ({type(exc).__name__}: {exc}). "
                    "Nothing committed before is lost and what was refused stays pending (it is "
                    "retried); free the disk or fix the cause. Reopening the store resumes every "
                    "instance from its last commit."
                )
                self._problem(str(self.write_error))
                self._changed.notify_all()
                raise self.write_error from exc
            self._clock_committed = now
            if self.write_error is not None:
                self.write_error = None
                self._problem("the store accepts writes again")
            if batch:
                for subscriber in self._subscribers:
                    subscriber(batch)
        if self._dispatch and self.running:
            dispatch, self._dispatch = self._dispatch, []
            self._submit(dispatch)

    # ------------------------------------------------------------------ creating instances
    def _create(
        self,
        instance_id: str,
        name: str,
        encoded_input: str | None,
        start_at: datetime | None,
        *,
        parent: tuple[str, int] | None = None,
    ) -> Live:
        now = self.clock.now()
        record = InstanceRecord(
            instance_id=instance_id,
            name=name,
            status=WorkflowStatus.PENDING,
            created_at=now,
            last_updated_at=now,
            input=encoded_input,
            parent_instance_id=parent[0] if parent else None,
            parent_task_id=parent[1] if parent else None,
            start_at=start_at if start_at is not None and start_at > now else None,
        )
        if instance_id in self._records:
            self._batch.resets.add(instance_id)
            self._batch.events = [e for e in self._batch.events if e.instance_id != instance_id]
            self._code.pop(instance_id, None)
        self._put(record)
        live = Live(record)
        self._live[instance_id] = live
        if start_at is not None and start_at > now:
            self._add_timer(live, _START, start_at, "start", name)
        else:
            self._ready[instance_id] = None
        return live

    def schedule(
        self, name: str, encoded_input: str | None, instance_id: str, start_at: datetime | None
    ) -> str:
        self.registry.startable(name)  # unknown names fail here, before anything is written
        with self._lock:
            self._check_alive()
            self._ensure_recovered()
            self._check_writable()
            existing = self._records.get(instance_id)
            if instance_id in self._live or (existing is not None and self._unrecovered(existing)):
                status = self._records[instance_id].status.name
                raise InstanceExistsError(
                    f"workflow instance {instance_id!r} already exists and is {status}; an id "
                    "can be reused once its instance has finished. Pick another instance_id, "
                    "or terminate and purge the running one first."
                )
            code = self._code.get(instance_id)
            self._create(instance_id, name, encoded_input, start_at)
            try:
                self._commit()
            except StoreWriteError:  # the call fails: leave things as they were
                self._live.pop(instance_id)
                self._ready.pop(instance_id, None)
                self._batch.records.pop(instance_id, None)
                self._batch.resets.discard(instance_id)
                if existing is None:
                    self._records.pop(instance_id)
                else:
                    self._records[instance_id] = existing
                if code is not None:
                    self._code[instance_id] = code
                raise
            self._wake.notify()
            self._changed.notify_all()
        return instance_id

    # ------------------------------------------------------------------ timers
    def _add_timer(
        self, live: Live, task_id: int, fire_at: datetime, origin: str, name: str | None
    ) -> None:
        instance_id = live.record.instance_id
        live.timers[task_id] = PendingTimer(fire_at, instance_id, task_id, origin, name)
        heapq.heappush(
            self._timers, (fire_at, next(self._timer_order), instance_id, live.generation, task_id)
        )

    def _live_timer(self, entry: tuple[datetime, int, str, int, int]) -> Live | None:
        _, _, instance_id, generation, task_id = entry
        live = self._live.get(instance_id)
        if live is None or live.generation != generation or task_id not in live.timers:
            return None
        return live

    def _next_timer(self) -> datetime | None:
        while self._timers and self._live_timer(self._timers[0]) is None:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def _fire_due_timers(self, *, jumped: bool = False) -> bool:
        fired = False
        now = self.clock.now()
        while self._timers and self._timers[0][0] <= now:
            entry = heapq.heappop(self._timers)
            live = self._live_timer(entry)
            if live is None:
                continue
            task_id = entry[4]
            timer = live.timers.pop(task_id)
            fired = True
            if task_id == _START:
                if not live.paused:
                    self._ready[live.record.instance_id] = None
            else:
                if jumped:
                    self._note_race(live, timer)
                self._deliver(
                    live, TimerFired(timestamp=now, timer_id=task_id, fire_at=timer.fire_at)
                )
        if fired and self._watchers:  # a start that waits for a resume runs no turn
            self._changed.notify_all()
        return fired

    def _auto_skip(self) -> bool:
        if not (self.clock.is_virtual and self.clock.auto_skip) or self._inflight:
            return False
        if self._active_turn is not None:  # what it decides may come first
            return False
        if not any(self._awaited[i] and i in self._live for i in list(self._awaited)):
            return False
        when = self._next_timer()
        if when is None:
            return False
        self.clock._set(when)
        return self._fire_due_timers(jumped=True)

    def _note_race(self, live: Live, timer: PendingTimer) -> None:
        """Auto-skip fired a timer while the instance also waited for an event: the timer
        wins a race that, in real time, the event might have won."""
        orchestration = live.orchestration
        events = orchestration.waiting_for_events if orchestration is not None else []
        if not events:
            return
        names = ", ".join(repr(e) for e in events)
        self._races.append(
            f"auto-skip jumped virtual time to {timer.fire_at.isoformat()} and fired a timer "
            f"of workflow instance {live.record.instance_id!r} while it was waiting for event "
            f"{names}: the timer won the race. If someone is about to raise that event, wait "
            "without jumping: `with wfr.clock.no_auto_skip(): client.wait_for_...(...)`, or "
            "turn jumping off for the runtime: `wfr.clock.auto_skip = False`."
        )
        self._race_count += 1

    def pending_timers(self) -> list[PendingTimer]:
        with self._lock:
            timers = [t for live in self._live.values() for t in live.timers.values()]
        return sorted(timers, key=lambda t: (t.fire_at, t.instance_id, t.task_id))

    def advance_clock(self, when: datetime) -> None:
        """Move virtual time to ``when``, stopping at each timer on the way until quiet."""
        if self._in_turn():
            raise RuntimeError("the clock cannot be advanced from inside a workflow")
        with self._lock:
            while True:
                self._wait_quiet()
                step = self._next_timer()
                if step is None or step > when:
                    break
                self.clock._set(step)
                if not self.running:
                    self._fire_due_timers()
                    continue
                self._wake.notify()
                self._watch(functools.partial(self._moved_past, step))
            self.clock._set(when)
            self._wait_quiet()
            self._commit()  # the store resumes the clock from here after a restart

    def _moved_past(self, step: datetime) -> bool:
        return self._next_timer() != step or not self.running

    def _watch(self, predicate: Callable[[], bool]) -> None:
        """Wait (engine lock held) until ``predicate()``; woken after every turn."""
        self._watchers += 1
        try:
            self._changed.wait_for(predicate)
        finally:
            self._watchers -= 1

    def _wait_quiet(self) -> None:
        if self.running:
            self._wake.notify()
            self._watch(
                lambda: (
                    not self.running
                    or (not self._ready and not self._inflight and self._active_turn is None)
                )
            )

    # ------------------------------------------------------------------ activities
    def _submit(self, calls: list[ActivityCall]) -> None:
        """Hand activity calls out (engine lock held): sync ones to the workers, async ones
        to the event loop, unknown names straight back as failures."""
        sync: list[ActivityCall] = []
        found: dict[str, Registered] = {}  # a fan-out looks each name up once
        for call in calls:
            decision = call.decision
            if decision.app_id not in (None, self.app_id) and call.origin is None:
                self._inflight += 1  # until the other app reports back
                call.origin = self
                _apps.post(functools.partial(_apps.run_activity, call))
                continue
            activity = found.get(decision.activity_name)
            if activity is None:
                try:
                    activity = found[decision.activity_name] = self.registry.activity(
                        decision.activity_name
                    )
                except Exception as exc:
                    self._inflight += 1
                    self._activities_done([(call, None, exc)])
                    continue
            call.activity = activity
            self._inflight += 1
            if activity.is_async:
                asyncio.run_coroutine_threadsafe(
                    self._run_async(activity, call), self._event_loop()
                )
            else:
                sync.append(call)
        if sync:
            assert self._workers is not None
            self._workers.submit(sync)

    def _activity_context(self, call: ActivityCall) -> Any:
        d = call.decision
        return _activity_context_class()(
            call.instance_id, d.task_id, d.task_execution_id, propagated=call.propagated
        )

    def _run_sync(self, call: ActivityCall) -> tuple[ActivityCall, Any, BaseException | None]:
        key = (call.instance_id, call.decision.task_id)
        self._executing[key] = (time.monotonic(), call.decision.activity_name)
        try:
            activity = call.activity or self.registry.activity(call.decision.activity_name)
            output = activity.invoke(self._activity_context(call), call.decision.input)
            return call, self._encode_result(call, output), None
        except BaseException as exc:
            return call, None, exc
        finally:
            self._executing.pop(key, None)

    async def _run_async(self, activity: Registered, call: ActivityCall) -> None:
        key = (call.instance_id, call.decision.task_id)
        self._executing[key] = (time.monotonic(), call.decision.activity_name)
        done: tuple[ActivityCall, Any, BaseException | None]
        try:
            output = await activity.invoke(self._activity_context(call), call.decision.input)
            done = (call, self._encode_result(call, output), None)
        except BaseException as exc:
            done = (call, None, exc)
        finally:
            self._executing.pop(key, None)
        self._activities_done([done])

    def _encode_result(self, call: ActivityCall, output: Any) -> str | None:
        return _serde.encode(
            output, what=f"result of activity {call.decision.activity_name!r}", limit=self.limit
        )

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._loop_thread = threading.Thread(
                    target=loop.run_forever, name="wfkit-async-activities", daemon=True
                )
                self._loop_thread.start()
                self._loop = loop
            return self._loop

    def _in_turn(self) -> bool:
        current = threading.current_thread()
        turn = self._active_turn
        return (turn is not None and current is turn.thread) or current is self._thread

    def _activities_done(
        self, done: list[tuple[ActivityCall, Any, BaseException | None]], *, run_turn: bool = False
    ) -> None:
        """Deliver finished activity calls: (call, encoded result, error). With ``run_turn``
        (an activity worker), run the turn they make ready here instead of waking the engine.
        Calls run here for another app's instances go back to its engine.

        One thread delivers at a time; results that arrive meanwhile (while it waits for
        the lock, or runs a turn and its store commit, durable on a file) are left for it,
        and the thread that brought them goes back to its work. The deliverer takes them
        all at once: one turn and one commit serve them all (a group commit)."""
        foreign = [d for d in done if d[0].origin not in (None, self)]
        if foreign:
            with self._lock:
                self._inflight -= len(foreign)
                if not self._inflight:
                    self._changed.notify_all()
            for item in foreign:
                item[0].origin._activities_done([item])
            done = [d for d in done if d[0].origin in (None, self)]
            if not done:
                return
        with self._arrival:
            self._arrived.extend(done)
            if self._delivering:
                return
            self._delivering = True
        while True:
            with self._lock:
                with self._arrival:
                    done = self._arrived
                    self._arrived = []
                    if not done:
                        self._delivering = False
                        return
                self._deliver_results(done, run_turn=run_turn)

    def _deliver_results(
        self, done: list[tuple[ActivityCall, Any, BaseException | None]], *, run_turn: bool
    ) -> None:
        self._inflight -= len(done)
        now = self.clock.now()
        for call, encoded, error in done:
            live = self._live.get(call.instance_id)
            if live is None or live.generation != call.generation:
                continue  # the instance finished or started over meanwhile
            task_id = call.decision.task_id
            event: HistoryEvent
            if error is None:
                event = TaskCompleted(timestamp=now, task_scheduled_id=task_id, result=encoded)
            else:
                event = TaskFailed(
                    timestamp=now, task_scheduled_id=task_id, failure=FailureDetails.of(error)
                )
            self._deliver(live, event)
        if run_turn and self._ready and self.running:
            self._run_ready()
        if self._ready or not self._inflight:  # the engine thread has work, or timers
            self._wake.notify()
        if not self._inflight:
            self._changed.notify_all()

    # ------------------------------------------------------------------ observers
    def subscribe(self, callback: Callable[[Batch], None]) -> Callable[[], None]:
        """Call ``callback(batch)`` after every commit, with the engine lock held (keep it
        cheap: mark something dirty and return). Returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def executing(self, instance_id: str) -> set[int]:
        """Task ids of the activities of ``instance_id`` that are running at this moment."""
        return {task_id for i, task_id in list(self._executing) if i == instance_id}

    def orchestration(self, instance_id: str) -> Orchestration | None:
        """The executor of a live instance, for read-only views (its tasks, what it
        yielded); None before its first episode and once it has finished. One evicted
        from memory is rebuilt by a replay on the calling thread, without the engine
        lock, and kept if nothing ran it meanwhile."""
        with self._lock:
            live = self._live.get(instance_id)
            if live is None or live.orchestration is not None or not live.started:
                return live.orchestration if live is not None else None
            history = self._histories([instance_id])[instance_id]
            length = live.history_len
            replayed = self._new_orchestration(instance_id)
        _apply_all(replayed, history, replaying=True)
        with self._lock:
            if (
                live.orchestration is None
                and live.history_len == length
                and self._live.get(instance_id) is live
                and not self._busy(instance_id)
                and not self._in_active_turn(live)
            ):
                live.orchestration = replayed
                self._warm.ran(instance_id)
        return replayed

    def code_epoch(self, instance_id: str) -> int:
        """Odd while the instance's workflow code runs; it changes with every episode.
        A view read from the live executor is consistent if this was even and the same
        before and after the read."""
        live = self._live.get(instance_id)
        return live.code_epoch if live is not None else 0

    def waiting_for_events(self, instance_id: str) -> list[str]:
        """Names of the external events a live instance is waiting for now."""
        orchestration = self.orchestration(instance_id)
        return orchestration.waiting_for_events if orchestration is not None else []

    # ------------------------------------------------------------------ client commands
    def running_instances(self, workflow_name: str) -> list[str]:
        with self._lock:
            return [
                i
                for i, live in self._live.items()
                if live.record.name == workflow_name and live.started
            ]

    def record(self, instance_id: str) -> InstanceRecord | None:
        with self._lock:
            return self._records.get(instance_id)

    def records(self) -> list[InstanceRecord]:
        with self._lock:
            return list(self._records.values())

    def _require(self, instance_id: str) -> InstanceRecord:
        self._ensure_recovered()
        record = self._records.get(instance_id)
        if record is None:
            raise InstanceNotFoundError(
                f"no workflow instance with id {instance_id!r} (it was never scheduled, or "
                "it was purged); list_workflow_instance_ids() shows the ones that exist"
            )
        return record

    def command(
        self,
        instance_id: str,
        make: Callable[[datetime], HistoryEvent],
        *,
        verb: str,
        applies: Callable[[InstanceRecord], bool] = lambda r: True,
    ) -> None:
        """Deliver a client command to a live instance and wait until it is committed.

        ``applies`` false makes the command a no-op (e.g. resuming a running instance); so
        does a finished instance, as on Dapr, whose engine drops commands to those. One
        whose code is stuck holds every command (its status is what the ones it holds
        make it) until its code yields: only terminating acts at once."""
        with self._lock:
            self._check_alive()
            record = self._require(instance_id)
            live = self._live.get(instance_id)
            if live is None and record.status is WorkflowStatus.STALLED:
                # as on Dapr, a stalled instance takes commands; it applies them once the
                # version it runs is registered
                self._held.setdefault(instance_id, []).append(make(self.clock.now()))
                return
            if live is None and self._unrecovered(record):
                raise RuntimeNotStartedError(
                    f"cannot {verb} workflow instance {instance_id!r} yet: it was restored from "
                    f"the store and resumes once its workflow {record.name!r} is registered."
                )
            if live is None or (live.stuck is None and not applies(record)):
                return
            event = make(self.clock.now())
            if live.stuck is not None:
                if isinstance(event, ExecutionTerminated):
                    step = live.stuck.current
                    self._terminate_now(live, event, step.inbox if step else [])
                else:  # held until its code yields again, as Dapr queues new events
                    self._deliver(live, event)
                    self._queue(live, event)
                return
            if not live.started and self._before_start(live, event):
                return
            ticket = self._enqueue(live, event)
            if (
                self.running
                and not self._in_turn()
                and (live.started or instance_id in self._ready)
            ):
                self._wait_applied(live, ticket, event)

    def _wait_applied(self, live: Live, ticket: int, event: HistoryEvent) -> None:
        """Wait (engine lock held) until the command ``ticket`` of ``live`` is committed;
        one whose instance got stuck meanwhile is held in the store instead."""
        instance_id = live.record.instance_id
        self._watch(
            lambda: (
                live.applied >= ticket
                or instance_id not in self._live
                or not self.running
                or live.stuck is not None
                or self.write_error is not None
            )
        )
        self._check_alive()
        if live.applied < ticket and instance_id in self._live:
            if self.write_error is not None:
                raise self.write_error
            if live.stuck is not None and all(event is not e for e in live.queued):
                self._queue(live, event)

    def _queue(self, live: Live, event: HistoryEvent) -> None:
        """Keep a command in the store's inbox of an instance that does not run now (its
        code is stuck, or it has not started): committed before the call returns."""
        live.queued.append(event)
        self._batch.inbox[live.record.instance_id] = list(live.queued)
        self._commit()

    def _unqueue(self, live: Live, recorded: list[HistoryEvent]) -> None:
        """Commands among ``recorded`` are in the history now: the inbox lets them go
        (in the same commit)."""
        if not live.queued:
            return
        taken = {id(e) for e in recorded}
        left = [e for e in live.queued if id(e) not in taken]
        if len(left) != len(live.queued):
            live.queued = left
            self._batch.inbox[live.record.instance_id] = list(left)

    def _before_start(self, live: Live, event: HistoryEvent) -> bool:
        """A command to an instance whose code has not run yet (engine lock held); True
        when handled here. Terminating ends it without running its code. One due later
        (``start_at``) is not started early: pausing keeps it from starting until it is
        resumed, events wait in its inbox."""
        if isinstance(event, ExecutionTerminated):
            self._terminate_now(live, event, live.inbox)
            return True
        if _START not in live.timers and not live.paused:
            return False  # due now: the episode applies the command after the start
        now = self.clock.now()
        if isinstance(event, ExecutionSuspended | ExecutionResumed):
            live.paused = isinstance(event, ExecutionSuspended)
            status = WorkflowStatus.SUSPENDED if live.paused else WorkflowStatus.PENDING
            self._update(live, now, status=status)
            if not live.paused and _START not in live.timers:  # its start came meanwhile
                self._ready[live.record.instance_id] = None
                self._wake.notify()
            self._commit()
            self._changed.notify_all()
            return True
        live.inbox.append(event)  # applied after the start
        live.added += 1
        self._queue(live, event)
        return True

    def _check_alive(self) -> None:
        if self.failure is not None:
            raise RuntimeStoppedError(
                f"the runtime's engine stopped ({type(self.failure).__name__}: {self.failure}); "
                "nothing more is written. Shut the runtime down and start it again: unfinished "
                "instances resume from the store."
            )

    def wait(
        self, instance_id: str, done: Callable[[InstanceRecord], bool], timeout: float | None
    ) -> InstanceRecord | None:
        """Block until ``done(record)`` or ``timeout`` wall seconds (None: forever).

        The wait lets auto-skip jump time unless the clock says no for this thread; a
        timer it fired over an event wait meanwhile is reported as a WfkitWarning."""
        skip = self.clock.skips_here()
        races = self._race_count
        record = self._wait(instance_id, done, timeout, skip)
        new = self._race_count - races
        if skip and new:
            with self._lock:
                fresh = list(self._races)[-new:]
            for message in fresh:
                warnings.warn(message, WfkitWarning, stacklevel=4)
        return record

    def _wait(
        self,
        instance_id: str,
        done: Callable[[InstanceRecord], bool],
        timeout: float | None,
        skip: bool,
    ) -> InstanceRecord | None:
        deadline = None if not timeout else time.monotonic() + timeout
        with self._lock:
            if instance_id not in self._records:
                return None
            if skip:
                self._awaited[instance_id] += 1
                self._wake.notify()
            try:
                while True:
                    record = self._records.get(instance_id)
                    if record is None or done(record):
                        return record
                    self._check_alive()
                    if self.write_error is not None:
                        self._commit()  # try again now: raises if the store still refuses
                        continue
                    if not self.running:
                        raise RuntimeNotStartedError(
                            f"instance {instance_id!r} cannot progress: its runtime is not "
                            "started. Call wfr.start() first."
                        )
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(
                            f"workflow instance {instance_id!r} is still "
                            f"{record.status.name} after {timeout} s; raise the timeout, or "
                            "check what it waits for (an event, a timer with auto-skip off)"
                        )
                    self._changed.wait(remaining if remaining is not None else 1.0)
            finally:
                if skip:
                    self._awaited[instance_id] -= 1
                    if not self._awaited[instance_id]:
                        del self._awaited[instance_id]

    def purge(self, instance_id: str, recursive: bool) -> int:
        with self._lock:
            self._check_alive()
            record = self._require(instance_id)
            self._check_writable()
            if instance_id in self._live or self._unrecovered(record):
                raise InvalidInstanceStateError(
                    f"cannot purge workflow instance {instance_id!r}: it is "
                    f"{record.status.name}. Terminate it (or wait for it to finish) first."
                )
            doomed = [instance_id]
            if recursive:
                i = 0
                while i < len(doomed):
                    doomed.extend(
                        r.instance_id
                        for r in self._records.values()
                        if r.parent_instance_id == doomed[i] and r.instance_id not in self._live
                    )
                    i += 1
            pending = {d: self._batch.records.pop(d) for d in doomed if d in self._batch.records}
            self._batch.purges.update(doomed)
            try:
                self._commit()
            except StoreWriteError:  # the call fails: nothing is purged
                self._batch.purges.difference_update(doomed)
                self._batch.records.update(pending)
                raise
            for d in doomed:
                self._records.pop(d, None)
                self._code.pop(d, None)
            self._changed.notify_all()
            return len(doomed)

    def _check_writable(self) -> None:
        if is_read_only(self.store):
            raise StoreError(
                f"the store {self.store!r} is open read-only: it can be queried, not changed"
            )

    # ------------------------------------------------------------------ restoring from history
    def restore(
        self,
        record: InstanceRecord,
        history: list[HistoryEvent],
        *,
        override: tuple[int, str | None] | None = None,
    ) -> Live:
        """Rebuild a live instance by replaying ``history`` now (cold path, engine lock
        held: a fork or rerun), then re-issue what it was waiting for."""
        live = self._restored_live(record, history)
        if live.started:
            orchestration = self._new_orchestration(record.instance_id)
            _apply_all(orchestration, history, replaying=True)
            live.orchestration = orchestration
            self._reissue(live, history, override=override)
        return live

    def _restored_live(self, record: InstanceRecord, history: list[HistoryEvent]) -> Live:
        """A live instance for a record and its history, its executor not built yet. One
        that never started waits for its start (or its resume) again."""
        live = Live(record, history_len=len(history))
        self._live[record.instance_id] = live
        if any(isinstance(e, ExecutionStarted) for e in history):
            live.started = True
            return live
        live.paused = record.status is WorkflowStatus.SUSPENDED
        if record.start_at is not None and record.start_at > self.clock.now():
            self._add_timer(live, _START, record.start_at, "start", record.name)
        elif not live.paused:
            self._ready[record.instance_id] = None
        return live

    def _reissue(
        self,
        live: Live,
        history: list[HistoryEvent],
        *,
        override: tuple[int, str | None] | None = None,
    ) -> None:
        """After the replay of a restored instance (engine lock held): re-issue what it
        was waiting for (activities without a result, timers not fired, children not
        done) and record what its code decides beyond its history (edited code)."""
        orchestration = live.orchestration
        assert orchestration is not None
        self._warm.ran(live.record.instance_id)
        now = self.clock.now()
        for call in _open_calls(history):
            if isinstance(call, ChildWorkflowInstanceCreated):
                live.children[call.instance_id] = call.task_id
                child = self._records.get(call.instance_id)
                if child is None:
                    self._start_child(live, call)
                elif child.status.is_terminal and call.instance_id not in self._live:
                    self._deliver(live, self._child_result(child, call.task_id, now))
            else:
                self._apply_decisions(live, [call])
        new = orchestration.take_decisions()
        if override is not None:  # a rerun with a replaced input for the rerun call
            new = [
                replace(d, input=override[1])
                if d.event_id == override[0]  # type: ignore[call-arg]
                and isinstance(d, TaskScheduled | ChildWorkflowInstanceCreated)
                else d
                for d in new
            ]
        if new or orchestration.outcome is not None:
            # the code decides more than the history holds (edited code): a new episode
            self._append(
                live, [_episode_start(orchestration, WorkflowStarted(timestamp=now)), *new]
            )
            self._apply_decisions(live, new)
            if orchestration.outcome is not None:
                self._finish(live, orchestration.outcome, now, recursive=True)
        elif orchestration.is_suspended:
            live.record = replace(live.record, status=WorkflowStatus.SUSPENDED)

    def _child_result(self, child: InstanceRecord, task_id: int, now: datetime) -> HistoryEvent:
        if child.status is WorkflowStatus.COMPLETED:
            return ChildWorkflowInstanceCompleted(
                timestamp=now, task_scheduled_id=task_id, result=child.output
            )
        failure = child.failure or FailureDetails(
            f"child workflow {child.instance_id!r} was terminated", "WorkflowTerminatedError"
        )
        return ChildWorkflowInstanceFailed(
            timestamp=now, task_scheduled_id=task_id, failure=failure
        )

    def _ensure_recovered(self) -> None:
        with self._lock:
            if not self._recovered:
                self._recovered = True
                self._recover()

    def _recover(self) -> None:
        """Resume the unfinished instances found in the store (a restart) whose workflow is
        registered; the others wait until it is (``recover()``). A read-only store is only
        read: nothing is resumed."""
        if is_read_only(self.store):
            return
        # instances scheduled in this process before start() are live already, with
        # their inbox (events raised before the start): restoring would drop it
        todo = [r for r in self._records.values() if self._unrecovered(r)]
        waiting = [r for r in todo if r.name not in self.registry.workflows]
        todo = [r for r in todo if r.name in self.registry.workflows]
        histories = self.store.histories([r.instance_id for r in todo]) if todo else {}
        inboxes = self.store.inboxes() if todo and isinstance(self.store, InboxStore) else {}
        for record in todo:
            history = [s.event for s in histories[record.instance_id]]
            code = self.registry.workflows[record.name]
            if isinstance(code, VersionedWorkflow) and not code.runs(history):
                waiting.append(record)  # its version is not registered: it stalls, as on Dapr
                if record.status is not WorkflowStatus.STALLED:
                    self._put(replace(record, status=WorkflowStatus.STALLED))
                continue
            # its code replays in the next turn, with the engine lock released
            live = self._restored_live(record, history)
            if live.started:
                live.restoring = history
                self._restoring.add(record.instance_id)
                self._ready[record.instance_id] = None
            self._take_queued(live, inboxes.get(record.instance_id, []))
            for event in self._held.pop(record.instance_id, []):
                self._deliver(live, event)
            if record.status is WorkflowStatus.STALLED:
                self._update(live, self.clock.now(), status=WorkflowStatus.RUNNING)
        self._commit()
        waiting = [r for r in waiting if r.instance_id not in self._told]
        self._told.update(r.instance_id for r in waiting)  # told once, not at each register
        if waiting:
            names = ", ".join(sorted({repr(r.name) for r in waiting}))
            warnings.warn(
                f"{len(waiting)} unfinished instance(s) in the store run workflows (or "
                f"versions of them) that are not registered ({names}); they resume once "
                "registered.",
                WfkitWarning,
                stacklevel=2,
            )

    def recover(self) -> None:
        """Resume the unfinished instances of the store whose workflow was registered after
        the runtime had recovered the others."""
        with self._lock:
            if self._recovered:
                self._recover()
                self._wake.notify()
                self._wait_restored()

    def _take_queued(self, live: Live, events: list[HistoryEvent]) -> None:
        """Put the commands the store held for a restored instance back in its inbox
        (applied at its next episode: the first, for one that has not started)."""
        live.inbox.extend(events)
        live.added += len(events)
        live.queued.extend(events)

    def _unrecovered(self, record: InstanceRecord) -> bool:
        """An unfinished instance of the store that does not run here (yet)."""
        return not record.status.is_terminal and record.instance_id not in self._live

    def start_from_history(
        self,
        record: InstanceRecord,
        prefix: list[HistoryEvent],
        *,
        override: tuple[int, str | None] | None = None,
        workflow: Registered | None = None,
    ) -> str:
        """Create ``record``'s instance with ``prefix`` as the start of its history and run
        it from there (a rerun or a fork, see ``wfkit.timetravel.fork``): the prefix is
        replayed, what it left open is re-issued and what the code decides next is
        scheduled. ``override`` replaces the input of the new decision with that task id;
        ``workflow`` runs this instance with that code instead of the registered one."""
        new_id = record.instance_id
        with self._lock:
            if new_id in self._live:
                raise InstanceExistsError(
                    f"workflow instance {new_id!r} already exists and is running"
                )
            if new_id in self._records:
                self._batch.resets.add(new_id)
                self._batch.events = [e for e in self._batch.events if e.instance_id != new_id]
            if workflow is not None:
                self._code[new_id] = workflow
            else:
                self._code.pop(new_id, None)
            self._put(record)
            wall = _now_wall()
            self._batch.events.extend(StoredEvent(new_id, i, e, wall) for i, e in enumerate(prefix))
            self.restore(record, prefix, override=override)
            self._commit()
            self._wake.notify()
            self._changed.notify_all()
            return new_id

    def workflow_code(self, instance_id: str, name: str) -> Registered | VersionedWorkflow:
        """The workflow code an instance runs: its own (a fork with edited code) or the
        code registered under ``name``."""
        code = self._code.get(instance_id)
        return code if code is not None else self.registry.workflow(name)
