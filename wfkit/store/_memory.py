"""In-process store: dicts and lists, nothing persisted beyond the process."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from wfkit.core._history import HistoryEvent
from wfkit.core._state import InstanceRecord
from wfkit.store import _rows
from wfkit.store._base import Batch, HistoryPage, StoredEvent, check_batch
from wfkit.store._pages import filter_records, scan_history_page

if TYPE_CHECKING:
    import pandas


class MemoryStore:
    """The pure in-memory backend (fastest; lost with the process)."""

    def __init__(self) -> None:
        self._records: dict[str, InstanceRecord] = {}
        self._events: dict[str, list[StoredEvent]] = {}
        self._lengths: dict[str, int] = {}
        self._clock_time: datetime | None = None
        self._inbox: dict[str, list[HistoryEvent]] = {}

    @property
    def writes_through(self) -> bool:
        """No commit is a durable write (see ``DuckDBStore.writes_through``)."""
        return False

    def commit(self, batch: Batch) -> None:
        # validate everything first: a batch that fails changes nothing
        after = check_batch(batch, self._lengths)
        for instance_id in batch.purges:
            self._records.pop(instance_id, None)
            self._events.pop(instance_id, None)
            self._inbox.pop(instance_id, None)
        for instance_id, held in batch.inbox.items():
            if held:
                self._inbox[instance_id] = list(held)
            else:
                self._inbox.pop(instance_id, None)
        for instance_id in batch.resets:
            self._events[instance_id] = []
        self._records.update(batch.records)
        for stored in batch.events:
            events = self._events.get(stored.instance_id)
            if events is None:
                events = self._events[stored.instance_id] = []
            events.append(stored)
        for instance_id, length in after.items():
            if length < 0:
                self._lengths.pop(instance_id, None)
            else:
                self._lengths[instance_id] = length
        if batch.clock_time is not None:
            self._clock_time = batch.clock_time

    def records(self) -> list[InstanceRecord]:
        return list(self._records.values())

    def record(self, instance_id: str) -> InstanceRecord | None:
        return self._records.get(instance_id)

    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> list[StoredEvent]:
        return self._events.get(instance_id, [])[start:stop]

    def histories(self, instance_ids: Iterable[str]) -> dict[str, list[StoredEvent]]:
        return {i: list(self._events.get(i, [])) for i in instance_ids}

    def clock_time(self) -> datetime | None:
        return self._clock_time

    def inboxes(self) -> dict[str, list[HistoryEvent]]:
        return {i: list(events) for i, events in self._inbox.items()}

    def close(self) -> None:
        pass

    # ------------------------------------------------------------------ pages, DataFrames
    def history_page(
        self,
        *,
        instance_id: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        offset: int = 0,
        limit: int = 25,
    ) -> HistoryPage:
        return scan_history_page(
            self, instance_id=instance_id, kind=kind, name=name, offset=offset, limit=limit
        )

    def history_frame(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> pandas.DataFrame:
        return _rows.history_frame(self.history(instance_id, start=start, stop=stop))

    def instances_frame(
        self, *, statuses: Sequence[str] | None = None, names: Sequence[str] | None = None
    ) -> pandas.DataFrame:
        records = filter_records(self._records.values(), statuses=statuses, names=names)
        return _rows.instances_frame(records)

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self._records)} instances>"
