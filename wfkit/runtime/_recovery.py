"""Restoring instances from their histories: unfinished instances of a reopened store
(replayed in a turn), forks and reruns started from a history prefix, and what a
restored instance was waiting for, issued again.

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from wfkit.core._errors import (
    InstanceExistsError,
    WfkitWarning,
)
from wfkit.core._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceCreated,
    ChildWorkflowInstanceFailed,
    ExecutionStarted,
    FailureDetails,
    HistoryEvent,
    TaskScheduled,
    WorkflowStarted,
)
from wfkit.core._orchestration import Orchestration
from wfkit.core._registry import Registered, VersionedWorkflow
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.runtime._instances import (
    START_TIMER,
    Live,
    add_child,
    add_to_inbox,
    apply_all,
    episode_start,
    now_wall,
    unclosed_calls,
)
from wfkit.store import InboxStore, StoredEvent, is_read_only

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


def restore(
    self: Engine,
    record: InstanceRecord,
    history: list[HistoryEvent],
    *,
    override: tuple[int, str | None] | None = None,
    replayed: Orchestration | None = None,
) -> Live:
    """Rebuild a live instance from ``history`` (engine lock held), then re-issue what it
    was waiting for. ``replayed``: the executor that already replayed ``history`` (a
    fork's, replayed before the lock was taken); else it is replayed now."""
    live = self._restored_live(record, history)
    if live.started:
        if replayed is None:
            replayed = self._new_orchestration(record.instance_id)
            apply_all(replayed, history, replaying=True)
        live.orchestration = replayed
        self._reissue(live, history, override=override)
    return live


def restored_live(self: Engine, record: InstanceRecord, history: list[HistoryEvent]) -> Live:
    """A live instance for a record and its history, its executor not built yet. One
    that never started waits for its start (or its resume) again."""
    live = Live(record, history_len=len(history))
    self._live[record.instance_id] = live
    if any(isinstance(e, ExecutionStarted) for e in history):
        live.started = True
        return live
    live.paused = record.status is WorkflowStatus.SUSPENDED
    if record.start_at is not None and record.start_at > self.clock.now():
        self._add_timer(live, START_TIMER, record.start_at, "start", record.name)
    elif not live.paused:
        self._ready[record.instance_id] = None
    return live


def reissue(
    self: Engine,
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
    for call in unclosed_calls(history):
        if isinstance(call, ChildWorkflowInstanceCreated):
            add_child(live, call.instance_id, call.task_id)
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
        self._append(live, [episode_start(orchestration, WorkflowStarted(timestamp=now)), *new])
        self._apply_decisions(live, new)
        if orchestration.outcome is not None:
            self._finish(live, orchestration.outcome, now, recursive=True)
    elif orchestration.is_suspended:
        live.record = replace(live.record, status=WorkflowStatus.SUSPENDED)


def child_result(self: Engine, child: InstanceRecord, task_id: int, now: datetime) -> HistoryEvent:
    if child.status is WorkflowStatus.COMPLETED:
        return ChildWorkflowInstanceCompleted(
            timestamp=now, task_scheduled_id=task_id, result=child.output
        )
    failure = child.failure or FailureDetails(
        f"child workflow {child.instance_id!r} was terminated", "WorkflowTerminatedError"
    )
    return ChildWorkflowInstanceFailed(timestamp=now, task_scheduled_id=task_id, failure=failure)


def ensure_recovered(self: Engine) -> None:
    with self._lock:
        if not self._recovered:
            self._recovered = True
            self._recover()


def recover_from_store(self: Engine) -> None:
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


def recover(self: Engine) -> None:
    """Resume the unfinished instances of the store whose workflow was registered after
    the runtime had recovered the others."""
    with self._lock:
        if self._recovered:
            self._recover()
            self._wake.notify()
            self._wait_restored()


def take_queued(self: Engine, live: Live, events: list[HistoryEvent]) -> None:
    """Put the commands the store held for a restored instance back in its inbox
    (applied at its next episode: the first, for one that has not started)."""
    add_to_inbox(live, events)
    live.added += len(events)
    live.queued = (*live.queued, *events)


def unrecovered(self: Engine, record: InstanceRecord) -> bool:
    """An unfinished instance of the store that does not run here (yet)."""
    return not record.status.is_terminal and record.instance_id not in self._live


def start_from_history(
    self: Engine,
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
    # the workflow code replays the prefix before the engine lock is taken, so that code
    # which does not return cannot block client calls
    replayed = None
    if any(isinstance(e, ExecutionStarted) for e in prefix):
        resolve = self.registry.workflow if workflow is None else (lambda name: workflow)
        replayed = Orchestration(new_id, resolve, max_payload_bytes=self.limit)
        apply_all(replayed, prefix, replaying=True)
    with self._lock:
        if new_id in self._live:
            raise InstanceExistsError(f"workflow instance {new_id!r} already exists and is running")
        if new_id in self._records:
            self._batch.resets.add(new_id)
            self._batch.events = [e for e in self._batch.events if e.instance_id != new_id]
        if workflow is not None:
            self._code[new_id] = workflow
        else:
            self._code.pop(new_id, None)
        self._put(record)
        wall = now_wall()
        self._batch.events.extend(StoredEvent(new_id, i, e, wall) for i, e in enumerate(prefix))
        self.restore(record, prefix, override=override, replayed=replayed)
        self._commit()
        self._wake.notify()
        self._changed.notify_all()
        return new_id
