"""The store interface the engine writes through.

The engine groups everything that happens in one turn (the episodes of every instance
that was ready, new instances, purges) into one :class:`Batch` and commits it atomically
before dispatching any side effect, so a state a user can observe is already persisted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeAlias, runtime_checkable

from wfkit.core._history import FailureDetails, HistoryEvent
from wfkit.core._state import InstanceRecord

if TYPE_CHECKING:
    import pandas


class StoredEvent(NamedTuple):
    """A history event at its position (``seq``, from 0) in its instance's history.

    A named tuple rather than a frozen dataclass: a 100k-event read builds 100k of them,
    at a third of the cost."""

    instance_id: str
    seq: int
    event: HistoryEvent
    wall_time: float


@dataclass(slots=True)
class Batch:
    """Writes committed together. Applied in order: purges, resets, records, events."""

    records: dict[str, InstanceRecord] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    #: Instances whose history starts over (continue-as-new, a reused instance id).
    resets: set[str] = field(default_factory=set)
    #: Instances deleted with their history.
    purges: set[str] = field(default_factory=set)
    #: Virtual time when the batch was committed (a reopened store resumes the clock there).
    clock_time: datetime | None = None
    #: Instances' new events not yet in their histories (commands held for an instance
    #: that does not run now), each list replacing what the store held; empty: none left.
    inbox: dict[str, list[HistoryEvent]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.records or self.events or self.resets or self.purges or self.inbox)


@runtime_checkable
class HistoryStore(Protocol):
    """Persistence for instances and their histories: what the engine needs, and all a
    store must offer (``wfkit.testing.store_contract`` checks a store against it)."""

    def commit(self, batch: Batch) -> None:
        """Apply ``batch`` atomically: all of it or, on error, none of it."""
        ...

    def records(self) -> list[InstanceRecord]:
        """Every instance, in creation order."""
        ...

    def record(self, instance_id: str) -> InstanceRecord | None: ...

    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> list[StoredEvent]:
        """Events with ``start <= seq < stop`` of one instance, in order."""
        ...

    def histories(self, instance_ids: Iterable[str]) -> dict[str, list[StoredEvent]]:
        """The full histories of several instances at once (a restart reads them all)."""
        ...

    def clock_time(self) -> datetime | None:
        """The latest virtual time a batch was committed at (None if never)."""
        ...

    def close(self) -> None:
        """Release what the store holds open (a file store reopens on its next use)."""
        ...


@runtime_checkable
class InboxStore(HistoryStore, Protocol):
    """A store that keeps ``Batch.inbox``: commands held for instances that do not run
    (a stuck turn, a start to come) survive a restart. Both of wfkit's stores do; with
    another store, held commands live as long as the process."""

    def inboxes(self) -> dict[str, list[HistoryEvent]]:
        """The new events held for instances (see ``Batch.inbox``), by instance id."""
        ...


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One history event as the columns of the ``history`` table (JSON kept as text)."""

    instance_id: str
    seq: int
    kind: str
    #: The name the event reports (activity, workflow, event, timer origin).
    name: str | None
    task_id: int | None
    #: Virtual time of the event (naive UTC).
    ts: datetime
    #: Wall time of the commit that stored the event (naive UTC).
    wall_ts: datetime
    payload: str | None
    failure: str | None
    fields: str | None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """A page of the history rows that match a filter, and how many match in all."""

    rows: list[HistoryRow]
    total: int


#: A narrow row of one history event, for indexes that need no payloads: ``(seq, kind,
#: task id or -1, virtual time and wall time in microseconds since the epoch, name, call
#: (activity execution id or child instance id), timer origin)``. A plain tuple: an index
#: of a long history reads a hundred thousand of them.
IndexRow: TypeAlias = tuple[int, str, int, int, int, str | None, str | None, str | None]
#: seq -> (payload JSON text, failure) of the events asked for.
Payloads: TypeAlias = dict[int, tuple[str | None, FailureDetails | None]]


@runtime_checkable
class BrowsableStore(HistoryStore, Protocol):
    """A store that serves pages of history rows and DataFrames itself (every store can
    be browsed: ``wfkit.store.history_page`` and the frame functions read other stores
    through :class:`HistoryStore`)."""

    def history_page(
        self,
        *,
        instance_id: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        offset: int = 0,
        limit: int = 25,
    ) -> HistoryPage:
        """The rows ``offset`` to ``offset + limit`` (instance creation order, then seq) of
        the events of ``instance_id`` (or every instance) of kind ``kind`` whose name
        contains ``name`` (case-insensitive), and the number of events that match."""
        ...

    def history_frame(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> pandas.DataFrame:
        """Events ``start <= seq < stop`` of one instance, columns as the history table."""
        ...

    def instances_frame(
        self, *, statuses: Sequence[str] | None = None, names: Sequence[str] | None = None
    ) -> pandas.DataFrame:
        """The instances (oldest first) with those status and workflow names."""
        ...


@runtime_checkable
class QueryableStore(BrowsableStore, Protocol):
    """A store with SQL tables (``instances``, ``history``, views ``tasks`` and ``timers``;
    see ``docs/store.md``) that reads narrow columns of a history without its payloads."""

    def sql(
        self, query: str, params: Sequence[object] | Mapping[str, object] | None = None
    ) -> pandas.DataFrame:
        """Run ``query`` on the store's tables; the result as a DataFrame."""
        ...

    def history_index(self, instance_id: str, start: int = 0) -> list[IndexRow]:
        """The :data:`IndexRow` of each event of one instance from ``seq`` ``start`` on."""
        ...

    def history_payloads(self, instance_id: str, seqs: Iterable[int]) -> Payloads:
        """The payloads and failures of the events ``seqs`` of one instance."""
        ...


def check_batch(batch: Batch, lengths: dict[str, int]) -> dict[str, int]:
    """Validate ``batch`` against the history lengths it applies to, without changing them.

    Returns the lengths the batch leaves (for the instances it touches; -1 for purged
    ones). Raises ValueError if an event is not at the end of its instance's history."""
    after: dict[str, int] = {}
    for instance_id in batch.purges:
        after[instance_id] = -1
    for instance_id in batch.resets:
        after[instance_id] = 0
    for stored in batch.events:
        instance_id = stored.instance_id
        length = after.get(instance_id)
        if length is None:
            length = lengths.get(instance_id, 0)
        elif length < 0:
            length = 0
        if stored.seq != length:
            raise ValueError(
                f"history of {instance_id!r} has {length} events; cannot append event {stored.seq}"
            )
        after[instance_id] = length + 1
    return after
