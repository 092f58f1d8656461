"""One instance's history as the replayed instance indexes it: an :class:`Entry` per
event (or a narrow SQL row made into one when looked up), read by a
:class:`HistorySource` from any store, or with SQL from a queryable one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from wfkit.core._history import HistoryEvent
from wfkit.core._time import from_epoch_seconds
from wfkit.store import HistoryStore, QueryableStore, StoredEvent

_EPOCH = datetime(1970, 1, 1)
_PAYLOAD_FIELDS = ("input", "result", "output")


class HistoryGap(ValueError):
    """Events handed to the index do not follow on from the ones it has seen."""

    def __init__(self, instance_id: str, expected: int, got: int):
        super().__init__(f"history of {instance_id!r}: expected event {expected}, got {got}")


class Entry:
    """One history event, as much of it as the index needs."""

    __slots__ = ("call", "event", "kind", "name", "origin", "seq", "task_id", "ts_us", "wall_us")

    def __init__(
        self,
        seq: int,
        kind: str,
        task_id: int | None,
        ts_us: int,
        wall_us: int,
        name: str | None,
        call: str | None,
        origin: str | None,
        event: HistoryEvent | None = None,
    ):
        self.seq = seq
        self.kind = kind
        self.task_id = task_id
        self.ts_us = ts_us
        self.wall_us = wall_us
        self.name = name
        self.call = call
        self.origin = origin
        self.event = event

    @classmethod
    def of_row(cls, row: tuple[Any, ...]) -> Entry:
        seq, kind, task_id, ts, wall, name, call, origin = row
        return cls(
            int(seq),
            kind,
            None if task_id < 0 else int(task_id),
            int(ts),
            int(wall),
            name if isinstance(name, str) else None,
            call if isinstance(call, str) else None,
            origin if isinstance(origin, str) else None,
        )

    @classmethod
    def of(cls, stored: StoredEvent) -> Entry:
        event = stored.event
        task_id = getattr(event, "task_id", None)
        if task_id is None:
            task_id = getattr(event, "task_scheduled_id", None)
        if task_id is None:
            task_id = getattr(event, "timer_id", None)
        call = getattr(event, "task_execution_id", None) or (
            getattr(event, "instance_id", None)
            if event.kind == "ChildWorkflowInstanceCreated"
            else None
        )
        entry = cls(
            stored.seq,
            event.kind,
            task_id,
            0,
            round(stored.wall_time * 1_000_000),
            event.name,
            call,
            getattr(event, "origin", None),
            event,
        )
        return entry

    @property
    def ts(self) -> datetime:
        """Virtual time of the event (naive UTC)."""
        if self.event is not None:
            return self.event.timestamp
        return _EPOCH + timedelta(microseconds=self.ts_us)

    @property
    def wall_time(self) -> float:
        """Wall time of the commit that stored the event (seconds since the epoch)."""
        return self.wall_us / 1_000_000

    @property
    def wall(self) -> datetime:
        return from_epoch_seconds(self.wall_time)


class LazyEntries(dict[Any, Any]):
    """A dict whose values may be raw SQL rows or stored events, made into an Entry when
    read (most are never read: only the nodes a view draws look theirs up)."""

    def get(self, key: Any, default: Any = None) -> Any:
        value = dict.get(self, key, default)
        if isinstance(value, StoredEvent):  # first: a stored event is a tuple as well
            value = self[key] = Entry.of(value)
        elif isinstance(value, tuple):
            value = self[key] = Entry.of_row(value)
        return value


class HistorySource:
    """Reads one instance's history for the index: from ``store.history`` (every store)."""

    #: True if :meth:`entries` reads narrower rows than :meth:`events` (worth it for an
    #: index that does not apply the events to an executor).
    narrow = False

    def __init__(self, store: HistoryStore, instance_id: str):
        self.store = store
        self.instance_id = instance_id

    def events(self, start: int) -> list[StoredEvent]:
        return self.store.history(self.instance_id, start=start)

    def entries(self, start: int) -> list[Entry]:
        return [Entry.of(s) for s in self.events(start)]

    def payloads(self, entries: list[Entry]) -> dict[int, tuple[str | None, Any]]:
        """seq -> (payload JSON text, FailureDetails or None) for ``entries``."""
        return event_payloads(entries)


def event_payloads(entries: list[Entry]) -> dict[int, tuple[str | None, Any]]:
    out: dict[int, tuple[str | None, Any]] = {}
    for entry in entries:
        event = entry.event
        if event is None:
            continue
        text = next(
            (getattr(event, f) for f in _PAYLOAD_FIELDS if getattr(event, f, None) is not None),
            None,
        )
        out[entry.seq] = (text, getattr(event, "failure", None))
    return out


class SqlHistorySource(HistorySource):
    """Reads narrow columns of the history from a queryable store; payloads on demand."""

    narrow = True

    def __init__(self, store: QueryableStore, instance_id: str):
        super().__init__(store, instance_id)
        self.queryable = store

    def entries(self, start: int) -> list[Any]:
        """Index rows (seq, kind, task id, ts, wall, name, call, origin): made into an
        Entry only when looked up (see ``LazyEntries``), as most rows never are."""
        return self.queryable.history_index(self.instance_id, start)

    def payloads(self, entries: list[Entry]) -> dict[int, tuple[str | None, Any]]:
        if not entries:
            return {}
        return dict(self.queryable.history_payloads(self.instance_id, [e.seq for e in entries]))


def source_for(store: HistoryStore, instance_id: str) -> HistorySource:
    if isinstance(store, QueryableStore):
        return SqlHistorySource(store, instance_id)
    return HistorySource(store, instance_id)
