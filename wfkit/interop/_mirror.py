"""A remote engine's instances and histories, copied into a local store.

:class:`EngineMirror` is what SQL, the widgets and time travel read for a connection: it
has the read side of wfkit's own engine (records, the store, a commit subscription,
what runs and what waits), filled by :meth:`EngineMirror.sync`, which asks the engine
for the state of each instance, reads the history only of those whose state changed,
and appends only the events not copied yet, in one commit. :meth:`EngineMirror.follow`
syncs one instance, and the child workflows under it still running, on a background
thread at an interval until it finishes, is purged, the engine stops answering or the
widget that asked closes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from wfkit.core._clock import PendingTimer, SystemClock
from wfkit.core._dapr_history import from_engine_messages
from wfkit.core._errors import (
    EngineError,
    EngineUnavailableError,
    InstanceNotFoundError,
    UnknownHistoryEventError,
    WorkflowNotRegisteredError,
)
from wfkit.core._history import (
    OPTIONAL_TIMER_FIRE_AT,
    ChildWorkflowInstanceCreated,
    EventRaised,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
)
from wfkit.core._registry import Registered, Registry, VersionedWorkflow
from wfkit.core._state import InstanceRecord
from wfkit.core._time import utc_now
from wfkit.interop._channel import EngineChannel
from wfkit.store import Batch, DuckDBStore, StoredEvent

log = logging.getLogger("wfkit.interop")
#: Reads in a row the engine may fail (it answered, with an error) before polling stops.
RETRIES = 3
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class SyncReport:
    """What a sync copied."""

    instances: int
    """Instances whose state or history changed."""
    events: int
    """History events appended."""
    purged: int
    """Instances gone from the engine, and so removed from the store."""


@dataclass(frozen=True)
class FollowState:
    """How a followed instance is being read."""

    state: str
    """``polling``, ``retrying`` (the engine failed a read), ``finished``, ``purged``, ``unreachable`` (the engine stopped
    answering), ``unreadable`` (its history has an event wfkit cannot read), ``error``
    or ``stopped`` (the widget closed)."""
    message: str
    at: datetime = field(default_factory=utc_now)
    """Wall time (UTC) of the state."""

    @property
    def polling(self) -> bool:
        """Still polling (``retrying`` too: the engine failed a read, it is read again)."""
        return self.state in ("polling", "retrying")


class _Progress:
    """What an instance waits on, read from its history as it grows: activities not yet
    answered, timers not fired, external events waited for."""

    def __init__(self) -> None:
        self.activities: set[int] = set()
        self.timers: dict[int, TimerCreated] = {}
        self.waits: list[tuple[str, int]] = []  # (event name, its wait's timer id)
        self.children: list[str] = []  # child workflow instances it started

    def apply(self, event: HistoryEvent) -> None:
        match event:
            case ChildWorkflowInstanceCreated():
                if event.instance_id not in self.children:
                    self.children.append(event.instance_id)
            case TaskScheduled():
                self.activities.add(event.task_id)
            case TaskCompleted() | TaskFailed():
                self.activities.discard(event.task_scheduled_id)
            case TimerCreated():
                self.timers[event.task_id] = event
                if event.origin == "external_event" and event.origin_name:
                    self.waits.append((event.origin_name, event.task_id))
            case TimerFired():
                self.timers.pop(event.timer_id, None)
                self.waits = [w for w in self.waits if w[1] != event.timer_id]
            case EventRaised():
                name = event.event_name.casefold()
                for i, (waited, timer_id) in enumerate(self.waits):
                    if waited.casefold() == name:
                        del self.waits[i]
                        self.timers.pop(timer_id, None)
                        break


@dataclass
class _Synced:
    """How much of an instance's engine history the store holds."""

    messages: int
    events: int
    first: bytes
    progress: _Progress


class EngineMirror:
    """The read side of a remote engine, kept in ``store`` (see the module's docstring).

    Args:
        channel: the connection to the engine.
        store: where the instances and histories are copied.
        registry: workflow code, for the graph and time travel (replays need it).
    """

    def __init__(self, channel: EngineChannel, store: DuckDBStore, registry: Registry):
        self.channel = channel
        self.store = store
        self.registry = registry
        self.clock = SystemClock()
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[Batch], None]] = []
        self._synced: dict[str, _Synced] = {}
        self._states: dict[str, FollowState] = {}

    # ------------------------------------------------------------------ syncing
    def sync(self, instance_ids: Iterable[str]) -> SyncReport:
        """Bring these instances up to date in the store, in one commit; a failure
        (the engine unreachable, an unreadable history) leaves the store as it was."""
        with self._lock:
            batch = Batch()
            synced: dict[str, _Synced | None] = {}
            events = 0
            ids = list(dict.fromkeys(instance_ids))
            if len(ids) == 1:
                engine = {ids[0]: self.channel.instance(ids[0])}
                known = {ids[0]: self.store.record(ids[0])}
            else:  # the engine's states at once, and one read of the copied records
                engine = self.channel.instances(ids)
                known = {r.instance_id: r for r in self.store.records()}
            for instance_id in ids:
                events += self._plan(
                    instance_id, engine[instance_id], known.get(instance_id), batch, synced
                )
            if batch:
                self.store.commit(batch)
            for instance_id, state in synced.items():
                if state is None:
                    self._synced.pop(instance_id, None)
                else:
                    self._synced[instance_id] = state
            if batch:
                self._notify(batch)
            return SyncReport(len(batch.records), events, len(batch.purges))

    def sync_all(self) -> SyncReport:
        """Every instance the engine lists, and the removal of those it no longer has."""
        ids: list[str] = []
        token = None
        while True:
            page, token = self.channel.instance_ids(None, token)
            ids.extend(page)
            if not token:
                break
        known = [r.instance_id for r in self.store.records()]
        return self.sync([*ids, *known])

    def _plan(
        self,
        instance_id: str,
        record: InstanceRecord | None,
        old: InstanceRecord | None,
        batch: Batch,
        synced: dict[str, _Synced | None],
    ) -> int:
        """Add what is new about one instance (``record``: its state on the engine,
        ``old``: the copied one) to ``batch``; returns the events added."""
        if record is None:
            if old is not None:
                batch.purges.add(instance_id)
                synced[instance_id] = None
            return 0
        if old == record:  # unchanged since it was copied: no history to read
            if instance_id not in self._synced:  # copied by an earlier connection
                synced[instance_id] = self._from_store(instance_id)
            return 0
        messages = self.channel.history(instance_id)
        first = messages[0].SerializeToString(deterministic=True) if messages else b""
        done = self._synced.get(instance_id)
        if done is not None and len(messages) >= done.messages and first == done.first:
            base, progress = done.events, done.progress
            new = from_engine_messages(
                messages[done.messages :], instance_id=instance_id, start=done.messages
            )
        else:
            events = from_engine_messages(messages, instance_id=instance_id)
            stored = self.store.history(instance_id) if old is not None else []
            kept = len(stored) <= len(events) and all(
                s.event == e for s, e in zip(stored, events, strict=False)
            )
            if old is not None and not kept:
                batch.resets.add(instance_id)  # the history started over
            base = len(stored) if kept else 0
            progress = _Progress()
            for event in events[:base]:
                progress.apply(event)
            new = events[base:]
        for i, event in enumerate(new):
            progress.apply(event)
            wall = (event.timestamp - _EPOCH).total_seconds()
            batch.events.append(StoredEvent(instance_id, base + i, event, wall))
        batch.records[instance_id] = record
        synced[instance_id] = _Synced(len(messages), base + len(new), first, progress)
        return len(new)

    def _from_store(self, instance_id: str) -> _Synced:
        """What the store holds of an instance; the engine's history is read in full at
        its next change (``messages=-1``: its length is not known)."""
        progress = _Progress()
        stored = self.store.history(instance_id)
        for item in stored:
            progress.apply(item.event)
        return _Synced(-1, len(stored), b"", progress)

    def _notify(self, batch: Batch) -> None:
        for callback in list(self._subscribers):
            try:
                callback(batch)
            except Exception:  # a view must never break the sync
                log.exception("a subscriber failed")

    # ------------------------------------------------------------------ following
    def follow(self, instance_id: str, interval: float) -> Callable[[], None]:
        """Sync ``instance_id`` every ``interval`` seconds on a background thread until
        it finishes or is purged, the engine stops answering, or the returned function
        is called. :meth:`follow_state` says which."""
        if not interval > 0:
            raise ValueError(
                f"the polling interval is a positive number of seconds, not {interval!r}"
            )
        stop = threading.Event()
        thread = threading.Thread(
            target=self._poll,
            args=(instance_id, interval, stop),
            name=f"wfkit-follow-{instance_id}",
            daemon=True,
        )
        self._states[instance_id] = FollowState("polling", f"polling every {interval:g} s")
        thread.start()

        def unfollow() -> None:
            stop.set()

        return unfollow

    def follow_state(self, instance_id: str) -> FollowState | None:
        return self._states.get(instance_id)

    def _poll(self, instance_id: str, interval: float, stop: threading.Event) -> None:
        failures = 0
        while True:
            state = self._poll_once(instance_id, interval)
            failures = failures + 1 if state.state == "retrying" else 0
            if failures > RETRIES:
                state = FollowState("error", state.message + " Polling stopped.")
            self._states[instance_id] = state
            if not state.polling:
                self._notify(Batch())  # let the views show the state
                return
            if stop.wait(interval):
                self._states[instance_id] = FollowState("stopped", "no longer followed")
                return

    def _family(self, instance_id: str) -> list[str]:
        """``instance_id`` and the child workflows under it that have not ended (or are not
        copied yet), at any depth: a followed parent shows its children's progress too."""
        family, todo = [], [instance_id]
        while todo:
            current = todo.pop()
            family.append(current)
            synced = self._synced.get(current)
            for child in synced.progress.children if synced else ():
                record = self.store.record(child)
                if child not in family and (record is None or not record.status.is_terminal):
                    todo.append(child)
        return family

    def _poll_once(self, instance_id: str, interval: float) -> FollowState:
        try:
            self.sync(self._family(instance_id))
        except EngineUnavailableError as exc:
            return FollowState("unreachable", f"{exc} Polling stopped.")
        except UnknownHistoryEventError as exc:
            return FollowState("unreadable", f"{exc}. Polling stopped.")
        except EngineError as exc:  # the engine failed this once (a busy database, say)
            return FollowState("retrying", f"{exc}; trying again in {interval:g} s.")
        except Exception as exc:
            log.debug("polling %s failed", instance_id, exc_info=True)
            return FollowState("error", f"{type(exc).__name__}: {exc}. Polling stopped.")
        record = self.store.record(instance_id)
        if record is None:
            return FollowState(
                "purged", f"instance {instance_id!r} is gone from the engine (purged)"
            )
        if record.status.is_terminal:
            return FollowState("finished", f"{record.status.name}; polling stopped")
        return FollowState("polling", f"{record.status.name}; polling every {interval:g} s")

    # ------------------------------------------------------------------ what views read
    @property
    def error(self) -> str | None:
        """None: a remote engine's troubles show per followed instance (:meth:`follow_state`)."""
        return None

    def subscribe(self, callback: Callable[[Batch], None]) -> Callable[[], None]:
        """Call ``callback(batch)`` after every sync that changed the store."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def record(self, instance_id: str) -> InstanceRecord | None:
        return self.store.record(instance_id)

    def records(self) -> list[InstanceRecord]:
        return self.store.records()

    def require(self, instance_id: str) -> InstanceRecord:
        """The instance's record, read from the engine if the store has none yet."""
        record = self.store.record(instance_id)
        if record is None:
            self.sync([instance_id])
            record = self.store.record(instance_id)
        if record is None:
            raise InstanceNotFoundError(
                f"no instance {instance_id!r} on the engine at {self.channel.target} (never "
                "scheduled, or purged); list_workflow_instance_ids() shows the ones there"
            )
        return record

    def workflow_code(self, instance_id: str, name: str) -> Registered | VersionedWorkflow:
        try:
            return self.registry.workflow(name)
        except WorkflowNotRegisteredError:
            raise WorkflowNotRegisteredError(
                f"replaying instance {instance_id!r} needs the code of workflow {name!r}: "
                "pass it, wfkit.connect(address, workflows=[fn]) or "
                "connection.register_workflow(fn)"
            ) from None

    def executing(self, instance_id: str) -> set[int]:
        """Activities scheduled and not answered yet (on the engine's workers)."""
        synced = self._synced.get(instance_id)
        return set(synced.progress.activities) if synced is not None else set()

    def orchestration(self, instance_id: str) -> None:
        """No executor runs here: views replay the history with the registered code."""
        return None

    def waiting_for_events(self, instance_id: str) -> list[str]:
        synced = self._synced.get(instance_id)
        record = self.store.record(instance_id)
        if synced is None or record is None or record.status.is_terminal:
            return []
        return [name for name, _ in synced.progress.waits]

    def pending_timers(self) -> list[PendingTimer]:
        timers = []
        for instance_id, synced in list(self._synced.items()):
            record = self.store.record(instance_id)
            if record is None or record.status.is_terminal:
                continue
            for task_id, timer in synced.progress.timers.items():
                if timer.fire_at != OPTIONAL_TIMER_FIRE_AT:
                    timers.append(
                        PendingTimer(
                            timer.fire_at, instance_id, task_id, timer.origin, timer.origin_name
                        )
                    )
        return sorted(timers, key=lambda t: (t.fire_at, t.instance_id, t.task_id))
