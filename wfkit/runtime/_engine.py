"""The engine: runs instances on one background thread, in turns.

A turn runs one episode for every instance that is ready, commits everything the turn
wrote in one store transaction, and only then dispatches side effects (activities to the
thread pool or event loop, timers to the heap). Between turns it fires due timers (waking
itself when the next one is due while time flows) and, with a virtual clock and auto-skip
on, jumps to the next timer when someone is waiting for a result and nothing else can
progress.

One lock guards all engine state; client calls take it briefly, and callers that wait
(for completion, or for their command to be applied) wait on a condition of that lock.

This module holds the engine's state, its lifecycle and its readers. Its other methods
live in a module per concern, as functions taking the engine as ``self`` that the class
assembles: ``_turns`` (turns and episodes), ``_stuck`` (turns that do not yield),
``_recording`` (what an episode writes, and the commit), ``_timers`` (timers, auto-skip,
moving the clock), ``_activities`` (activity dispatch and the delivery of results),
``_commands`` (client commands), ``_creating`` (new instances sharing a turn's durable
write, on a file), ``_recovery`` (instances restored from histories) and
``_between_apps``; ``_instances`` holds the data they share.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

from wfkit.core._clock import Clock
from wfkit.core._errors import (
    StoreWriteError,
    WfkitWarning,
)
from wfkit.core._gc import BUSY
from wfkit.core._history import (
    HistoryEvent,
)
from wfkit.core._orchestration import Orchestration
from wfkit.core._registry import Registered, Registry, VersionedWorkflow
from wfkit.core._state import InstanceRecord
from wfkit.runtime import _activities as activities
from wfkit.runtime import _apps
from wfkit.runtime import _between_apps as between_apps
from wfkit.runtime import _commands as commands
from wfkit.runtime import _creating as creating
from wfkit.runtime import _recording as recording
from wfkit.runtime import _recovery as recovery
from wfkit.runtime import _stuck as stuck
from wfkit.runtime import _timers as timers
from wfkit.runtime import _turns as turns
from wfkit.runtime._creating import Creation
from wfkit.runtime._instances import (
    ActivityCall,
    Live,
    Turn,
    apply_all,
)
from wfkit.runtime._warm import WarmInstances
from wfkit.runtime._watchdog import Limits, Watchdog
from wfkit.runtime._workers import ActivityWorkers
from wfkit.store import Batch, HistoryStore

#: Seconds between the engine thread's looks at a due pause of the collector that a
#: running turn keeps (the turn ends it as it ends, unless it is detached)
GC_LOOK_SECONDS = 0.01


class Engine:
    """Runs the instances of one store: the state below, the lifecycle and the readers
    here; turns, timers, activities, commands and recovery in the modules named where
    their methods are assembled (at the end of the class)."""

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
        self.registry = registry
        self._resolve = registry.workflow  # one bound method for every executor
        self.limits = limits or Limits()
        self.store = store
        self.clock = clock
        self.limit = max_payload_bytes
        self._init_instances(store, warm_instances)
        self._init_threads(max_workers)
        self._init_health()
        self._drive_clock(clock, store)

    def _init_instances(self, store: HistoryStore, warm_instances: int | None) -> None:
        """What the engine knows of instances, and the turn that runs their code."""
        self._records: dict[str, InstanceRecord] = {r.instance_id: r for r in store.records()}
        self._live: dict[str, Live] = {}
        #: Instances that run code of their own instead of the registered workflow (forks)
        self._code: dict[str, Registered] = {}
        self._ready: dict[str, None] = {}
        #: running instances whose executor is in memory (the others replay when needed)
        self._warm = WarmInstances(warm_instances)
        self._timers = timers.TimerQueue()
        #: due timers left by an auto-skip's jump (``FIRE_BATCH``): fired as jumped ones
        self.jumped_timers = False
        #: Instances that callers wait for and allow to jump time (auto-skip)
        self._awaited: Counter[str] = Counter()
        #: What auto-skip decided over an event wait, for the waiters to warn about
        self._races: collections.deque[str] = collections.deque(maxlen=32)
        self._race_count = 0
        self._batch = Batch()
        #: New instances waiting for a commit to take them (``_creating``), guarded by
        #: ``_arrival``; taken only where every commit is a durable write of its own
        self._creations: list[Creation] = []
        self._group_commits = getattr(store, "writes_through", False) is True
        #: A turn's commit may wait (``recording.DEFER_SECONDS``) only where the store
        #: says it keeps nothing durable (a store of unknown kind commits every turn);
        #: since when a deferred batch waits
        self._defers = getattr(store, "writes_through", None) is False
        self._deferred_since: float | None = None
        self._committed_at = time.monotonic()  # when the engine last committed
        self._dispatch: list[ActivityCall] = []
        #: Children run here for instances of other apps: child id -> the parent's engine
        self._parents: dict[str, Engine] = {}
        #: Commands for stalled instances, applied once their version is registered
        self._held: dict[str, list[HistoryEvent]] = {}
        self._told: set[str] = set()  # instances a warning said wait for their workflow
        # Unfinished instances in the store are replayed at the first start() (or client
        # command), once the workflows they run have been registered: in a turn, like any
        # workflow code. Those whose replay has not run yet:
        self._recovered = False
        self._restoring: set[str] = set()
        # The turn in progress, on the engine thread or on an activity worker that runs the
        # turn its results made ready (so a chain runs on one thread, without hand-offs).
        self._active_turn: Turn | None = None
        self._guard = threading.Lock()

    def _init_threads(self, max_workers: int | None) -> None:
        """The engine lock, its conditions, and the threads that run code."""
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._changed = threading.Condition(self._lock)
        # Waiters are woken only when what they wait for may have changed: a status, or
        # the progress that command and clock waiters (counted here) watch.
        self._status_changed = False
        self._watchers = 0
        self._subscribers: list[Callable[[Batch], None]] = []
        self._max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._thread: threading.Thread | None = None
        self._alive_thread: threading.Thread | None = None
        self._workers: ActivityWorkers[ActivityCall] | None = None
        self._watchdog: Watchdog | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._stopping = False
        self._inflight = 0
        #: (instance id, task id) of the activities running now -> (wall start, name)
        self._executing: dict[tuple[str, int], tuple[float, str]] = {}
        #: finished activity calls not yet delivered, and whether a thread is delivering
        #: them (see ``activities_done``); guarded by ``_arrival``
        self._arrival = threading.Lock()
        self._arrived: list[tuple[ActivityCall, Any, BaseException | None]] = []
        self._delivering = False

    def _init_health(self) -> None:
        #: Recent warnings and errors (stuck turns, stalled activities, store writes)
        self.problems: collections.deque[str] = collections.deque(maxlen=100)
        #: Why the store refuses writes now (None when the last commit went through)
        self.write_error: StoreWriteError | None = None
        #: Why the engine thread ended, if it ended on an error
        self.failure: BaseException | None = None
        self._stalled: set[tuple[str, int]] = set()  # reported already

    def _drive_clock(self, clock: Clock, store: HistoryStore) -> None:
        """Become the clock's driver; a reopened store's virtual clock goes on from the
        latest time it recorded."""
        clock.attach_driver(self)
        recorded = store.clock_time()
        resume = getattr(clock, "_resume", None)
        if recorded is not None and resume is not None:
            resume(recorded)
        self._clock_committed = recorded if clock.is_virtual else None

    def committed_store(self) -> HistoryStore:
        """The store with every turn so far in it: what reads through the runtime, the
        client and the inspectors use (a turn's commit to an in-memory store may wait a
        few milliseconds, ``recording.DEFER_SECONDS``)."""
        if self._deferred_since is not None:
            with self._lock:
                self._commit_deferred()
        return self.store

    @property
    def running(self) -> bool:
        # a flag the thread clears as it ends: Thread.is_alive() costs a lock per call
        return self._thread is not None and self._alive_thread is self._thread

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
                lambda done: self.activities_done(done, run_turn=True),
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
        thread = threading.Thread(target=self._run, name="wfkit-engine", daemon=True)
        self._thread = self._alive_thread = thread
        thread.start()

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
                        # let a caller that waits for the lock in before the next turn
                        # (a client scheduling instances one after another): else it
                        # gets in between turns of a few of its instances each, and
                        # every turn has a fixed cost
                        self._lock.release()
                        time.sleep(0)
                        self._lock.acquire()
                        continue
                    timeout = None
                    first = self._timers.first_time()
                    if self.clock.flows and first is not None:
                        timeout = (first - self.clock.now()).total_seconds()
                        timeout = min(max(0.0, timeout), 1.0)
                    for due in (
                        self._commit_due(),
                        self._gc_pause_due(),
                        self._quiet_write_due(),
                    ):
                        if due is not None:
                            timeout = max(0.0, due if timeout is None else min(timeout, due))
                    self._wake.wait(timeout)
        except BaseException as exc:  # recorded: every client call reports it
            self.failure = exc
            self.note_problem(f"the engine stopped: {type(exc).__name__}: {exc}")
            with self._lock:
                self._changed.notify_all()
        finally:
            if self._alive_thread is me:
                self._alive_thread = None

    def _turn(self) -> bool:
        """One step of the engine; False when nothing could progress."""
        if self._ready and self._active_turn is None:
            self._run_ready()
            return True
        if self._creations and self._active_turn is None and not self._delivering:
            with contextlib.suppress(StoreWriteError):  # each new instance's call fails
                self._commit_new()
            return True
        if self._fire_due_timers():
            return True
        if self._auto_skip():
            return True
        due = self._commit_due()
        if due is not None and due <= 0:
            self._commit_deferred()
            return True
        due = self._quiet_write_due()
        if due is not None and due <= 0:
            self._write_held_back()
            return True
        return False

    def _gc_pause_due(self) -> float | None:
        """Seconds until the engine thread looks again at the collector's pause
        (``BusyPause``), ending it if due and no turn runs; None: no pause."""
        if self._active_turn is None:
            BUSY.end_if_due()
        due = BUSY.due()
        return None if due is None else max(due, GC_LOOK_SECONDS)

    @property
    def error(self) -> str | None:
        """Why the engine cannot go on as it should (see ``WorkflowRuntime.error``)."""
        if self.failure is not None:
            return f"the engine stopped: {type(self.failure).__name__}: {self.failure}"
        return str(self.write_error) if self.write_error is not None else None

    def note_problem(self, message: str) -> None:
        self.problems.append(message)

    def _warn(self, message: str) -> None:
        try:
            warnings.warn(message, WfkitWarning, stacklevel=2)
        finally:  # recorded once warned (even when warnings are errors)
            self.note_problem(message)

    def code_replaced(self, name: str) -> None:
        """Running instances of workflow ``name`` replay with the code registered now at
        their next event, as on Dapr (which replays at every event)."""
        with self._lock:
            for instance_id, live in self._live.items():
                if live.record.name == name and live.started and instance_id not in self._code:
                    live.stale = True

    def _new_orchestration(self, instance_id: str) -> Orchestration:
        code = self._code.get(instance_id)
        resolve = self._resolve if code is None else (lambda name: code)
        return Orchestration(instance_id, resolve, max_payload_bytes=self.limit)

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
        apply_all(replayed, history, replaying=True)
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

    def workflow_code(self, instance_id: str, name: str) -> Registered | VersionedWorkflow:
        """The workflow code an instance runs: its own (a fork with edited code) or the
        code registered under ``name``."""
        code = self._code.get(instance_id)
        return code if code is not None else self.registry.workflow(name)

    # turns (wfkit/runtime/_turns.py)
    _run_ready = turns.run_ready
    _run_turn = turns.run_turn
    _step = turns.step
    _read_replays = turns.read_replays
    _histories = turns.histories
    _settle = turns.settle
    _run_code = turns.run_code
    _record_step = turns.record_step
    _episode = turns.episode
    _evict_idle = turns.evict_idle
    _busy = turns.busy
    _in_active_turn = turns.in_active_turn
    _in_turn = turns.in_turn

    # stuck (wfkit/runtime/_stuck.py)
    check_health = stuck.check_health
    _detach = stuck.detach
    _late = stuck.late
    _terminate_now = stuck.terminate_now

    # recording (wfkit/runtime/_recording.py)
    _append = recording.append
    _update = recording.update
    _put = recording.put
    _apply_decisions = recording.apply_decisions
    _start_child = recording.start_child
    _propagation = recording.propagation
    _hand_down_to_next_generation = recording.hand_down_to_next_generation
    _history_so_far = recording.history_so_far
    _continue_as_new = recording.continue_as_new
    _finish = recording.finish
    _deliver = recording.deliver
    _enqueue = recording.enqueue
    _commit = recording.commit
    _defer = recording.defer
    _commit_due = recording.commit_due
    _commit_deferred = recording.commit_deferred
    _quiet_write_due = recording.quiet_write_due
    _write_held_back = recording.write_held_back
    _submit_dispatch = recording.submit_dispatch

    # timers (wfkit/runtime/_timers.py)
    _add_timer = timers.add_timer
    _live_timer = timers.live_timer
    _next_timer = timers.next_timer
    _fire_due_timers = timers.fire_due_timers
    _fire_timer = timers.fire_timer
    _auto_skip = timers.auto_skip
    _note_race = timers.note_race
    pending_timers = timers.pending_timers
    advance_clock = timers.advance_clock
    _moved_past = timers.moved_past
    _watch = timers.watch
    _wait_quiet = timers.wait_quiet
    _move_clock = timers.move_clock

    # activities (wfkit/runtime/_activities.py)
    _submit = activities.submit
    _activity_context = activities.activity_context
    _run_sync = activities.run_sync
    _run_async = activities.run_async
    _encode_result = activities.encode_result
    _event_loop = activities.event_loop
    activities_done = activities.activities_done
    _deliver_results = activities.deliver_results

    # commands (wfkit/runtime/_commands.py)
    _create = commands.create
    schedule = commands.schedule
    running_instances = commands.running_instances
    record = commands.record
    records = commands.records
    require = commands.require
    command = commands.command
    _wait_applied = commands.wait_applied
    _hold_for_stalled = commands.hold_for_stalled
    _queue = commands.queue
    _unqueue = commands.unqueue
    _before_start = commands.before_start
    _check_alive = commands.check_alive
    wait = commands.wait
    _wait = commands.wait_until
    purge = commands.purge
    _check_writable = commands.check_writable

    # new instances in shared commits (wfkit/runtime/_creating.py)
    _schedule_shared = creating.schedule_shared
    _withdraw = creating.withdraw
    _commit_coming = creating.commit_coming
    _take_new = creating.take_new
    _commit_new = creating.commit_new

    # recovery (wfkit/runtime/_recovery.py)
    restore = recovery.restore
    _restored_live = recovery.restored_live
    _reissue = recovery.reissue
    _child_result = recovery.child_result
    _ensure_recovered = recovery.ensure_recovered
    _recover = recovery.recover_from_store
    recover = recovery.recover
    _take_queued = recovery.take_queued
    _unrecovered = recovery.unrecovered
    start_from_history = recovery.start_from_history

    # between apps (wfkit/runtime/_between_apps.py)
    run_for = between_apps.run_for
    adopt_child = between_apps.adopt_child
    child_done = between_apps.child_done
    child_failed = between_apps.child_failed
