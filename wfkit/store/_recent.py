"""The histories committed last, kept whole in memory so that reading them back in this
process (a time-travel cursor, a widget) skips decoding rows."""

from __future__ import annotations

from collections import OrderedDict

from wfkit.store._base import Batch, StoredEvent

#: Events kept in all (the least recently committed histories go first).
RECENT_EVENTS = 200_000


class RecentHistories:
    """Whole histories (from seq 0) committed through one store, least recent first."""

    def __init__(self) -> None:
        self.histories: OrderedDict[str, list[StoredEvent]] = OrderedDict()
        #: Events kept, across the histories.
        self.events = 0

    def __contains__(self, instance_id: str) -> bool:
        return instance_id in self.histories

    def get(self, instance_id: str, start: int, stop: int | None) -> list[StoredEvent] | None:
        """Events ``start <= seq < stop`` of a history kept here, else None."""
        cached = self.histories.get(instance_id)
        if cached is None:
            return None
        self.histories.move_to_end(instance_id)
        return cached[max(start, 0) : None if stop is None else max(stop, 0)]

    def clear(self) -> None:
        self.histories.clear()
        self.events = 0

    def remember(self, batch: Batch) -> None:
        """Keep an accepted batch's events."""
        recent = self.histories
        if batch.purges or batch.resets:
            for instance_id in batch.purges | batch.resets:
                self.events -= len(recent.pop(instance_id, ()))
            for instance_id in batch.resets:
                recent[instance_id] = []
        last = None
        for stored in batch.events:
            instance_id = stored.instance_id
            events = recent.get(instance_id)
            if events is None:
                if stored.seq != 0:
                    continue  # its history began before this store was opened, or was evicted
                events = recent[instance_id] = []
            events.append(stored)
            self.events += 1
            if instance_id != last:
                recent.move_to_end(instance_id)
                last = instance_id
        while self.events > RECENT_EVENTS and recent:
            self.events -= len(recent.popitem(last=False)[1])
