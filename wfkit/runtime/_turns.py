"""Turns: each runs one episode for every ready instance, with the workflow code run
outside the engine lock, and records what the code decided in one commit. A step
whose executor is not in memory (evicted, restored from the store, re-registered
code) replays its history first, in the same turn.

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING

from wfkit.core._errors import (
    StoreWriteError,
)
from wfkit.core._history import (
    ExecutionCompleted,
    ExecutionTerminated,
    HistoryEvent,
    WorkflowStarted,
)
from wfkit.core._state import WorkflowStatus
from wfkit.runtime._instances import (
    Live,
    Step,
    Turn,
    apply_all,
    drop_executor,
    episode_start,
    execution_started,
)

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


def run_ready(self: Engine) -> None:
    """Run one episode for every ready instance (engine lock held once by the caller).

    The workflow code runs with the lock released, so client calls answer while it
    runs; one turn runs at a time. A turn the watchdog finds running too long is
    detached from the engine (``_detach``), which goes on without it."""
    if self._active_turn is not None:
        return
    turn = self._active_turn = Turn(threading.current_thread(), self._guard)
    if turn.pause_gc():
        self._wake.notify()  # the engine thread ends the pause in time if no turn does
    try:
        self._run_turn(turn)
    finally:
        turn.resume_gc()


def run_turn(self: Engine, turn: Turn) -> None:
    """The body of ``run_ready``: the turn's steps formed, their code run, recorded."""
    for instance_id in self._ready:
        live = self._live.get(instance_id)
        if live is not None and live.stuck is None:
            turn.steps.append(self._step(live))
    self._ready.clear()
    if any_replays(turn.steps):
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
    try:  # noqa: SIM105 (contextlib.suppress costs a generator per turn)
        self._settle(turn.steps, now)
    except StoreWriteError:  # recorded: write_error, problems
        pass


def step(self: Engine, live: Live) -> Step:
    """The step of a ready instance in the turn being formed (engine lock held)."""
    instance_id = live.record.instance_id
    if live.restoring is not None:  # its inbox waits for the episode after the replay
        step = Step(live, live.applied, False, ())
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
    live.inbox = ()
    return step


def any_replays(steps: list[Step]) -> bool:
    for step in steps:  # noqa: SIM110 (a loop: a turn of one step pays no generator)
        if step.replay:
            return True
    return False


def read_replays(self: Engine, steps: list[Step]) -> None:
    """Read the histories the steps replay, together (engine lock held: the store
    is read with no commit under way; the replay itself runs without the lock)."""
    ids = [s.live.record.instance_id for s in steps if s.replay]
    if not ids:
        return
    histories = self._histories(ids)
    for step in steps:
        if step.replay:
            step.history = histories[step.live.record.instance_id]


def histories(self: Engine, instance_ids: list[str]) -> dict[str, list[HistoryEvent]]:
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


def settle(self: Engine, steps: list[Step], now: datetime) -> None:
    """Record what the code of finished steps decided, commit, wake who waits."""
    for step in steps:
        self._record_step(step, now)
    try:
        self._commit_new(deferrable=True)  # with the new instances that wait
        for step in steps:  # what command waiters wait for (not on a refused write)
            step.live.applied = step.added
        self._evict_idle()
    finally:
        if self._ready:
            self._wake.notify()
        if self._status_changed or self._watchers:
            self._status_changed = False
            self._changed.notify_all()


def run_code(self: Engine, step: Step, now: datetime) -> None:
    """Run the workflow code of one episode (no engine lock held): replay its history
    first if the step has one, then apply what it was given."""
    live = step.live
    live.code_epoch += 1
    if step.history is not None:
        replayed = self._new_orchestration(live.record.instance_id)
        apply_all(replayed, step.history, replaying=True)
        live.orchestration = replayed
        if step.restoring:
            step.orchestration = replayed
            step.done = True
            return
    events: list[HistoryEvent] = [WorkflowStarted(timestamp=now)]
    if step.starting:
        live.orchestration = self._new_orchestration(live.record.instance_id)
        events.append(execution_started(live, now))
    events.extend(step.inbox)
    orchestration = live.orchestration
    assert orchestration is not None
    apply_all(orchestration, events, replaying=False)
    step.orchestration = orchestration
    step.events = events
    step.decisions = orchestration.take_decisions()
    step.done = True


def record_step(self: Engine, step: Step, now: datetime) -> None:
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


def episode(self: Engine, step: Step, now: datetime) -> None:
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
    events[0] = episode_start(orchestration, events[0])  # type: ignore[arg-type]
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
        status = WorkflowStatus.SUSPENDED if orchestration.is_suspended else WorkflowStatus.RUNNING
        record = live.record
        custom_status = orchestration.custom_status
        if (
            record.status is status
            and record.last_updated_at == now
            and record.custom_status == custom_status
        ):
            self._put(record)  # unchanged (the common case): observers take it as progress
        else:
            self._update(live, now, status=status, custom_status=custom_status)


def evict_idle(self: Engine) -> None:
    """Drop the executors of the least recently run instances beyond the warm limit
    (after the commit: their histories are in the store to replay from)."""
    warm = self._warm
    if len(warm) > warm.limit:
        for instance_id in warm.over_limit(self._busy):
            drop_executor(self._live[instance_id])


def busy(self: Engine, instance_id: str) -> bool:
    live = self._live.get(instance_id)
    return live is None or bool(live.inbox) or instance_id in self._ready or live.stuck is not None


def in_active_turn(self: Engine, live: Live) -> bool:
    turn = self._active_turn
    return turn is not None and any(step.live is live for step in turn.steps)


def in_turn(self: Engine) -> bool:
    current = threading.current_thread()
    turn = self._active_turn
    return (turn is not None and current is turn.thread) or current is self._thread
