"""Client commands: scheduling instances, raising events, suspending, resuming and
terminating them (held in the store's inbox while an instance does not run),
waiting for an instance, and purging.

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from wfkit.core._errors import (
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
    ExecutionResumed,
    ExecutionSuspended,
    ExecutionTerminated,
    HistoryEvent,
)
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.runtime._instances import (
    START_TIMER,
    Live,
    add_to_inbox,
)
from wfkit.store import InboxStore, is_read_only

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


def create(
    self: Engine,
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
        self._commit_deferred()
        self._batch.resets.add(instance_id)
        self._batch.events = [e for e in self._batch.events if e.instance_id != instance_id]
        self._code.pop(instance_id, None)
    self._put(record)
    live = Live(record)
    self._live[instance_id] = live
    if start_at is not None and start_at > now:
        self._add_timer(live, START_TIMER, start_at, "start", name)
    else:
        self._ready[instance_id] = None
    return live


def schedule(
    self: Engine, name: str, encoded_input: str | None, instance_id: str, start_at: datetime | None
) -> str:
    self.registry.startable(name)  # unknown names fail here, before anything is written
    if start_at is None and self._schedule_shared(name, encoded_input, instance_id):
        return instance_id
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


def running_instances(self: Engine, workflow_name: str) -> list[str]:
    with self._lock:
        return [
            i
            for i, live in self._live.items()
            if live.record.name == workflow_name and live.started
        ]


def record(self: Engine, instance_id: str) -> InstanceRecord | None:
    with self._lock:
        return self._records.get(instance_id)


def records(self: Engine) -> list[InstanceRecord]:
    with self._lock:
        return list(self._records.values())


def require(self: Engine, instance_id: str) -> InstanceRecord:
    self._ensure_recovered()
    record = self._records.get(instance_id)
    if record is None:
        raise InstanceNotFoundError(
            f"no workflow instance with id {instance_id!r} (it was never scheduled, or "
            "it was purged); list_workflow_instance_ids() shows the ones that exist"
        )
    return record


def command(
    self: Engine,
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
        record = self.require(instance_id)
        live = self._live.get(instance_id)
        if live is None and record.status is WorkflowStatus.STALLED:
            # as on Dapr, a stalled instance takes commands; it applies them once the
            # version it runs is registered (kept in the store's inbox: a restart keeps them)
            self._hold_for_stalled(instance_id, make(self.clock.now()))
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
        if self.running and not self._in_turn() and (live.started or instance_id in self._ready):
            self._wait_applied(live, ticket, event)


def hold_for_stalled(self: Engine, instance_id: str, event: HistoryEvent) -> None:
    """Keep a command for a stalled instance until its version is registered: in the
    store's inbox, committed before the call returns (in memory with a store that has
    no inbox)."""
    if not isinstance(self.store, InboxStore):
        self._held.setdefault(instance_id, []).append(event)
        return
    held = self._batch.inbox.get(instance_id)
    if held is None:
        held = self.store.inboxes().get(instance_id, [])
    self._batch.inbox[instance_id] = [*held, event]
    self._commit()


def wait_applied(self: Engine, live: Live, ticket: int, event: HistoryEvent) -> None:
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


def queue(self: Engine, live: Live, event: HistoryEvent) -> None:
    """Keep a command in the store's inbox of an instance that does not run now (its
    code is stuck, or it has not started): committed before the call returns."""
    live.queued = (*live.queued, event)
    self._batch.inbox[live.record.instance_id] = list(live.queued)
    self._commit()


def unqueue(self: Engine, live: Live, recorded: Sequence[HistoryEvent]) -> None:
    """Commands among ``recorded`` are in the history now: the inbox lets them go
    (in the same commit)."""
    if not live.queued:
        return
    taken = {id(e) for e in recorded}
    left = [e for e in live.queued if id(e) not in taken]
    if len(left) != len(live.queued):
        live.queued = tuple(left)
        self._batch.inbox[live.record.instance_id] = left


def before_start(self: Engine, live: Live, event: HistoryEvent) -> bool:
    """A command to an instance whose code has not run yet (engine lock held); True
    when handled here. Terminating ends it without running its code. One due later
    (``start_at``) is not started early: pausing keeps it from starting until it is
    resumed, events wait in its inbox."""
    if isinstance(event, ExecutionTerminated):
        self._terminate_now(live, event, live.inbox)
        return True
    if START_TIMER not in live.timers and not live.paused:
        return False  # due now: the episode applies the command after the start
    now = self.clock.now()
    if isinstance(event, ExecutionSuspended | ExecutionResumed):
        live.paused = isinstance(event, ExecutionSuspended)
        status = WorkflowStatus.SUSPENDED if live.paused else WorkflowStatus.PENDING
        self._update(live, now, status=status)
        if not live.paused and START_TIMER not in live.timers:  # its start came meanwhile
            self._ready[live.record.instance_id] = None
            self._wake.notify()
        self._commit()
        self._changed.notify_all()
        return True
    add_to_inbox(live, (event,))  # applied after the start
    live.added += 1
    self._queue(live, event)
    return True


def check_alive(self: Engine) -> None:
    if self.failure is not None:
        raise RuntimeStoppedError(
            f"the runtime's engine stopped ({type(self.failure).__name__}: {self.failure}); "
            "nothing more is written. Shut the runtime down and start it again: unfinished "
            "instances resume from the store."
        )


def wait(
    self: Engine, instance_id: str, done: Callable[[InstanceRecord], bool], timeout: float | None
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


def wait_until(
    self: Engine,
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


def purge(self: Engine, instance_id: str, recursive: bool) -> int:
    with self._lock:
        self._check_alive()
        record = self.require(instance_id)
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


def check_writable(self: Engine) -> None:
    if is_read_only(self.store):
        raise StoreError(
            f"the store {self.store!r} is open read-only: it can be queried, not changed"
        )
