"""Turns whose workflow code does not yield: the watchdog's checks, going on without
such a turn, recording it if it ever returns, and terminating its instance.

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from wfkit.core._errors import (
    StoreError,
)
from wfkit.core._history import (
    ExecutionCompleted,
    ExecutionTerminated,
    HistoryEvent,
    WorkflowStarted,
)
from wfkit.core._orchestration import Outcome
from wfkit.runtime._instances import (
    Live,
    Turn,
    execution_started,
)
from wfkit.runtime._watchdog import where

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


def check_health(self: Engine) -> None:
    """Called by the watchdog: report (and detach) a stuck turn, report stalled
    activities, retry a commit the store refused."""
    limits, now = self.limits, time.monotonic()
    turn = self._active_turn
    if turn is not None and now - turn.step_started > limits.stuck_turn_seconds:
        with self._lock:
            # look again: while the watchdog waited for the lock (a long commit of many
            # instances), the turn may have moved on to a step that just began
            with turn.guard:
                step, ran = turn.current, time.monotonic() - turn.step_started
            if self._active_turn is not turn or step is None:
                return
            if ran <= limits.stuck_turn_seconds:
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


def detach(self: Engine, turn: Turn, *, restart: bool) -> None:
    """Go on without a turn whose workflow code does not return (engine lock held):
    the steps it finished are recorded, those it had not begun are given back, and
    the instance it is running is marked stuck (it can be terminated; if its code
    ever returns, ``_late`` records the result). ``restart``: if the turn runs on the
    engine thread, start a new one."""
    with turn.guard:
        turn.detached = True
        stuck = turn.current
    turn.resume_gc(now=True)
    self._active_turn = None
    finished = [s for s in turn.steps if s.done and s is not stuck]
    for step in turn.steps:
        if not step.done and step is not stuck:
            live = step.live
            live.inbox = [*step.inbox, *live.inbox]
            live.started = live.started and not step.starting
            live.stale = live.stale or step.replay  # replayed when it runs after all
            self._ready[live.record.instance_id] = None
    if stuck is not None:
        stuck.live.stuck = turn
        self._changed.notify_all()
    if restart and turn.thread is self._thread and not self._stopping:
        self._start_thread()
    if self._workers is not None:  # or one of the pool's threads: it is replaced
        self._workers.lost(turn.thread)
    with self._arrival:  # if it was delivering activity results, another one takes over
        self._delivering, arrived, self._arrived = False, self._arrived, []
    if arrived:
        self._deliver_results(arrived, run_turn=False)
    with contextlib.suppress(StoreError):  # recorded: write_error, problems
        self._settle(finished, self.clock.now())
    self._wake.notify()


def late(self: Engine, turn: Turn) -> None:
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


def terminate_now(
    self: Engine, live: Live, event: ExecutionTerminated, given: Sequence[HistoryEvent]
) -> None:
    """End an instance TERMINATED without running its code: one whose code is stuck in
    a detached turn (the turn is abandoned; ``given``: the events it was running on),
    or one that has not started (its code never runs). Events that came meanwhile are
    recorded before the termination, as Dapr records an inbox."""
    live.stuck = None
    now = self.clock.now()
    started = [] if live.started else [execution_started(live, now)]
    given = [*given, *(e for e in live.inbox if all(e is not g for g in given))]
    live.inbox = ()
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
