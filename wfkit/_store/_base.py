"""The store interface the engine writes through.

The engine groups everything that happens in one turn (the episodes of every instance
that was ready, new instances, purges) into one :class:`Batch` and commits it atomically
before dispatching any side effect, so a state a user can observe is already persisted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .._history import HistoryEvent
from .._state import InstanceRecord


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A history event at its position (``seq``, from 0) in its instance's history."""

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

    def __bool__(self) -> bool:
        return bool(self.records or self.events or self.resets or self.purges)


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

    def close(self) -> None: ...
