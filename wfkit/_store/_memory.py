"""In-process store: dicts and lists, nothing persisted beyond the process."""

from __future__ import annotations

from .._state import InstanceRecord
from ._base import Batch, StoredEvent


class MemoryStore:
    """The pure in-memory backend (fastest; lost with the process)."""

    def __init__(self) -> None:
        self._records: dict[str, InstanceRecord] = {}
        self._events: dict[str, list[StoredEvent]] = {}

    def commit(self, batch: Batch) -> None:
        for instance_id in batch.purges:
            self._records.pop(instance_id, None)
            self._events.pop(instance_id, None)
        for instance_id in batch.resets:
            self._events[instance_id] = []
        self._records.update(batch.records)
        for stored in batch.events:
            events = self._events.setdefault(stored.instance_id, [])
            if stored.seq != len(events):
                raise ValueError(
                    f"history of {stored.instance_id!r} has {len(events)} events; "
                    f"cannot append event {stored.seq}"
                )
            events.append(stored)

    def records(self) -> list[InstanceRecord]:
        return list(self._records.values())

    def record(self, instance_id: str) -> InstanceRecord | None:
        return self._records.get(instance_id)

    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> list[StoredEvent]:
        return self._events.get(instance_id, [])[start:stop]

    def close(self) -> None:
        pass
