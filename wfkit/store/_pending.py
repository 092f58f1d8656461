"""Writes a DuckDB store has accepted and not yet written, merged as batches arrive.

Merging at once (rather than keeping every batch) leaves one record per instance, one
flat list of events and a few sets, whatever the number of batches: cheap to keep, cheap
for the collector to scan, and exactly what one write statement per table needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from wfkit.core._history import HistoryEvent
from wfkit.core._state import InstanceRecord
from wfkit.store._base import Batch, StoredEvent


@dataclass(slots=True)
class PendingWrites:
    """The net effect of accepted batches, in the order they were committed."""

    #: Instances deleted with their history (their table rows go).
    purged: set[str] = field(default_factory=set)
    #: Instances whose stored history goes, with the position in :attr:`events` before
    #: which their events are void (a purge, or a history that starts over).
    dropped: dict[str, int] = field(default_factory=dict)
    #: The latest record of each instance, with its creation ordinal.
    records: dict[str, tuple[InstanceRecord, int]] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    clock: datetime | None = None
    #: The latest held new events of each instance named (empty: none left).
    inbox: dict[str, list[HistoryEvent]] = field(default_factory=dict)
    #: Rows the batches carried (what bounds how long an in-memory store waits).
    rows: int = 0
    #: Instances with events here, as far as :meth:`touches` has looked (it catches up
    #: when asked: committing pays nothing for it)
    _with_events: set[str] = field(default_factory=set, init=False)
    _looked: int = field(default=0, init=False)

    def add(self, batch: Batch, ordinals: dict[str, int]) -> None:
        for instance_id in batch.purges:
            self.purged.add(instance_id)
            self.dropped[instance_id] = len(self.events)
            self.records.pop(instance_id, None)
            self.inbox[instance_id] = []
        if batch.inbox:
            self.inbox.update(batch.inbox)
        for instance_id in batch.resets:
            self.dropped[instance_id] = len(self.events)
        for instance_id, record in batch.records.items():
            self.records[instance_id] = (record, ordinals[instance_id])
        self.events.extend(batch.events)
        if batch.clock_time is not None:
            self.clock = batch.clock_time
        self.rows += len(batch.events) + len(batch.records) + len(batch.inbox) + 1

    def __bool__(self) -> bool:
        return bool(self.rows)

    def knows(self, instance_id: str) -> bool:
        """Whether the pending writes decide what ``record(instance_id)`` is."""
        return instance_id in self.records or instance_id in self.purged

    def record(self, instance_id: str) -> InstanceRecord | None:
        entry = self.records.get(instance_id)
        return entry[0] if entry is not None else None

    def touches(self, instance_ids: list[str]) -> bool:
        """Whether writing these pending writes changes any of ``instance_ids``'
        stored history (their events, a purge, a history that starts over)."""
        if self._looked < len(self.events):
            self._with_events.update(s.instance_id for s in self.events[self._looked :])
            self._looked = len(self.events)
        with_events, dropped = self._with_events, self.dropped
        return any(i in with_events or i in dropped for i in instance_ids)

    def live_events(self) -> list[StoredEvent]:
        """The events to append: those no later purge or restart made void."""
        dropped = self.dropped
        if not dropped:
            return self.events
        return [
            stored
            for position, stored in enumerate(self.events)
            if dropped.get(stored.instance_id, -1) <= position
        ]
