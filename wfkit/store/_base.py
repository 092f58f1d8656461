"""The store interface the engine writes through.

The engine groups everything that happens in one turn (the episodes of every instance
that was ready, new instances, purges) into one :class:`Batch` and commits it atomically
before dispatching any side effect, so a state a user can observe is already persisted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from wfkit.core._history import HistoryEvent
from wfkit.core._state import InstanceRecord


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


class HistoryStore(Protocol):
    """Persistence for instances and their histories."""

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

    def inboxes(self) -> dict[str, list[HistoryEvent]]:
        """The new events held for instances (see ``Batch.inbox``), by instance id."""
        ...

    def close(self) -> None:
        """Release what the store holds open (a file store reopens on its next use)."""
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
