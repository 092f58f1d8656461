"""What an episode writes: history events and instance records into the open batch,
the side effects its decisions ask for (activities, timers, children), the
outcomes (finished, continued as new), and the commit of the batch.

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import contextlib
import functools
import time
from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING, Any

from wfkit.core import _serde
from wfkit.core._errors import (
    InstanceExistsError,
    StoreWriteError,
)
from wfkit.core._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceCreated,
    ChildWorkflowInstanceFailed,
    EventRaised,
    ExecutionTerminated,
    FailureDetails,
    HistoryEvent,
    TaskScheduled,
    TimerCreated,
)
from wfkit.core._orchestration import Outcome
from wfkit.core._propagation import PropagatedHistory, PropagationScope
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.runtime import _apps
from wfkit.runtime._instances import (
    NO_CHILDREN,
    NO_TIMERS,
    ActivityCall,
    Live,
    add_child,
    add_to_inbox,
    drop_executor,
    now_wall,
    updated_record,
)
from wfkit.store import Batch, StoredEvent

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


def append(self: Engine, live: Live, events: list[HistoryEvent]) -> None:
    base = live.history_len
    end = base + len(events)
    # built in C, by map and zip (no Python frame per event: an episode appends several)
    rows = zip(repeat(live.record.instance_id), range(base, end), events, repeat(now_wall()))
    self._batch.events.extend(map(tuple.__new__, repeat(StoredEvent), rows))  # type: ignore[arg-type]
    live.history_len = end


def update(self: Engine, live: Live, now: datetime, **changes: Any) -> None:
    record = live.record
    if changes.get("status", record.status) is not record.status:
        self._status_changed = True
    changes["last_updated_at"] = now
    for name, value in changes.items():
        if getattr(record, name) != value:
            live.record = updated_record(record, changes)
            break
    # put even when unchanged: observers take a record in the batch as progress
    self._put(live.record)


def put(self: Engine, record: InstanceRecord) -> None:
    self._records[record.instance_id] = record
    self._batch.records[record.instance_id] = record


def apply_decisions(self: Engine, live: Live, decisions: list[HistoryEvent]) -> None:
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
                add_child(live, decision.instance_id, decision.task_id)
                self._start_child(live, decision)


def start_child(self: Engine, parent: Live, decision: ChildWorkflowInstanceCreated) -> None:
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


def propagation(
    self: Engine, live: Live, decision: TaskScheduled | ChildWorkflowInstanceCreated
) -> PropagatedHistory | None:
    """What a call made with ``propagation=`` hands down: the caller's history up to
    and including the call's scheduling event (as Dapr's engine assembles it)."""
    if not decision.propagation:  # PropagationScope.NONE: most calls
        return None
    scope = PropagationScope(decision.propagation)
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


def hand_down_to_next_generation(self: Engine, live: Live, episode: list[HistoryEvent]) -> None:
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


def history_so_far(self: Engine, live: Live) -> list[HistoryEvent]:
    """The instance's events committed or in the open batch, in order."""
    instance_id = live.record.instance_id
    by_seq: dict[int, HistoryEvent] = {}
    if instance_id not in self._batch.resets:
        by_seq.update((s.seq, s.event) for s in self.store.history(instance_id))
    by_seq.update((s.seq, s.event) for s in self._batch.events if s.instance_id == instance_id)
    return [by_seq[seq] for seq in sorted(by_seq)]


def continue_as_new(self: Engine, live: Live, outcome: Outcome, now: datetime) -> None:
    instance_id = live.record.instance_id
    self._commit_deferred()
    live.timers = NO_TIMERS
    self._batch.events = [e for e in self._batch.events if e.instance_id != instance_id]
    self._batch.resets.add(instance_id)
    live.generation += 1
    live.history_len = 0
    live.started = False
    drop_executor(live)
    self._warm.forget(instance_id)
    live.children = NO_CHILDREN
    live.inbox = [
        EventRaised(timestamp=now, event_name=name, input=_serde.encode(value))
        for name, value in outcome.carryover
    ]
    self._update(live, now, status=WorkflowStatus.RUNNING, input=outcome.result, custom_status=None)
    self._ready[instance_id] = None


def finish(self: Engine, live: Live, outcome: Outcome, now: datetime, *, recursive: bool) -> None:
    instance_id = live.record.instance_id
    status = WorkflowStatus[outcome.status]
    orchestration = live.orchestration
    self._update(
        live,
        now,
        status=status,
        output=outcome.result,
        failure=outcome.failure,
        custom_status=orchestration.custom_status if orchestration else live.record.custom_status,
    )
    if orchestration is not None:  # (views may still read it: kept, its tasks unlinked)
        orchestration.release()
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


def deliver(self: Engine, live: Live, event: HistoryEvent) -> None:
    """Engine-internal delivery (timer, activity or child result)."""
    add_to_inbox(live, (event,))
    live.added += 1
    if live.stuck is None:
        self._ready[live.record.instance_id] = None


def enqueue(self: Engine, live: Live, event: HistoryEvent) -> int:
    self._deliver(live, event)
    self._wake.notify()
    return live.added


#: A turn's commit to a store that holds everything in memory waits, while instances
#: run on and their statuses stay, for at most this many seconds or events: a chain of
#: quick activities then commits a few hundred turns at once, not one store call
#: (validation, bookkeeping, subscribers) each. Nothing there is durable anyway, and a
#: read through the runtime or the client commits first (``Engine.committed_store``).
DEFER_SECONDS = 0.02
DEFER_EVENTS = 1024


#: Seconds the engine waits, quiet (nothing ready, running or committed), before it writes
#: the rows an in-memory store holds back: between two notebook cells, so that the next
#: run does not pay for the last one's (the store writes them in bulk once enough wait).
QUIET_SECONDS = 0.5


def quiet_write_due(self: Engine) -> float | None:
    """Seconds until the engine writes what the store holds back, or looks again if it
    is busy now (engine lock held); None: nothing is held back."""
    if not getattr(self.store, "held_back", 0):
        return None
    if (
        self._inflight  # (counts the results not yet delivered)
        or self._ready
        or self._active_turn is not None
        or self._creations
        or self._deferred_since is not None
    ):
        return QUIET_SECONDS
    return self._committed_at + QUIET_SECONDS - time.monotonic()


def write_held_back(self: Engine) -> None:
    """Write the rows the store holds back (engine lock held, released meanwhile: client
    calls go on, and one that commits waits for the store). A write that fails is
    noted and tried again once the engine has been quiet again."""
    self._lock.release()
    try:
        self.store.write_held_back()  # type: ignore[attr-defined]
    except Exception as exc:
        self.note_problem(f"could not write what the store holds back: {exc}")
    finally:
        self._lock.acquire()
        self._committed_at = time.monotonic()


def commit(self: Engine, *, deferrable: bool = False) -> None:
    """Commit what the engine wrote since the last commit. A batch the store refuses
    stays pending (retried with the next commit, and by the watchdog): the error is
    kept in ``write_error`` and raised as a ``StoreWriteError``. A ``deferrable``
    commit (a turn's) may wait (see ``DEFER_SECONDS``); the engine thread makes it."""
    if deferrable and self._defers and self._defer():
        self._submit_dispatch()
        return
    self._deferred_since = None
    self._committed_at = time.monotonic()
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
            self.note_problem(str(self.write_error))
            self._changed.notify_all()
            raise self.write_error from exc
        self._clock_committed = now
        if self.write_error is not None:
            self.write_error = None
            self.note_problem("the store accepts writes again")
        if batch:
            for subscriber in self._subscribers:
                subscriber(batch)
    self._submit_dispatch()
    if self._creations:  # new instances came during the write: a commit takes them
        self._wake.notify()


def defer(self: Engine) -> bool:
    """Whether the open batch can wait for a later commit (see ``DEFER_SECONDS``); the
    first turn that defers wakes the engine thread to commit in time."""
    batch = self._batch
    if (
        self._status_changed
        or self._watchers  # a command or the clock waits to see its turn committed
        or self.write_error is not None
        or len(batch.events) >= DEFER_EVENTS
        or batch.purges
        or batch.resets
        or batch.inbox
    ):
        return False
    since = self._deferred_since
    if since is None:
        self._deferred_since = time.monotonic()
        self._wake.notify()
        return True
    return time.monotonic() - since < DEFER_SECONDS


def commit_deferred(self: Engine) -> None:
    """Commit what deferred turns left in the open batch (engine lock held): before a
    history starts over, which drops the open batch's events of that instance (they
    reach the store and its subscribers first, as each turn's own commit did), and
    before a read through the runtime."""
    if self._deferred_since is not None:
        with contextlib.suppress(StoreWriteError):  # recorded: write_error, problems
            self._commit()


def commit_due(self: Engine) -> float | None:
    """Seconds until the deferred batch must be committed (None: none waits)."""
    since = self._deferred_since
    return None if since is None else since + DEFER_SECONDS - time.monotonic()


def submit_dispatch(self: Engine) -> None:
    """Hand out the activity calls the committed (or deferred) episodes decided."""
    if self._dispatch and self.running:
        dispatch, self._dispatch = self._dispatch, []
        self._submit(dispatch)
