"""Which running instances keep their executor in memory (warm) between events.

A warm instance resumes its generator in O(1) when an event arrives. Idle instances
beyond a limit are evicted: their executor is dropped and rebuilt, when their next event
arrives, by replaying their history from the store (as Temporal's workflow cache and
Dapr's actor deactivation do). The workflow cannot tell: a replay runs the same code on
the same history, with ``is_replaying`` set while it catches up.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from wfkit.core._history import HistoryEvent
from wfkit.core._orchestration import Orchestration

#: Instances kept warm by default (Dapr's default for ``history_cache_max_instances``).
DEFAULT_WARM_INSTANCES = 100_000


def check_limit(limit: int | None) -> int:
    """The warm-instance limit a runtime setting asks for (None or 0: the default, as on
    Dapr)."""
    if isinstance(limit, bool) or not isinstance(limit, int | None) or (limit or 0) < 0:
        raise ValueError(
            "history_cache_max_instances must be a whole number of instances (how many "
            f"running instances keep their executor in memory; None for {DEFAULT_WARM_INSTANCES:,}"
            f"), not {limit!r}"
        )
    return limit or DEFAULT_WARM_INSTANCES


class WarmInstances:
    """Instance ids with an executor in memory, least recently run first."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = check_limit(limit)
        self._order: OrderedDict[str, None] = OrderedDict()
        #: executors dropped so far
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._order)

    def ran(self, instance_id: str) -> None:
        """``instance_id`` ran an episode and keeps its executor."""
        order = self._order
        order[instance_id] = None
        order.move_to_end(instance_id)

    def forget(self, instance_id: str) -> None:
        """``instance_id`` finished, started over or was evicted."""
        self._order.pop(instance_id, None)

    def over_limit(self, busy: Callable[[str], bool]) -> list[str]:
        """The least recently run instances to evict to get back to the limit, skipping
        (and keeping) the ``busy`` ones."""
        excess = len(self._order) - self.limit
        if excess <= 0:
            return []
        evicted: list[str] = []
        for instance_id in self._order:
            if len(evicted) == excess:
                break
            if not busy(instance_id):
                evicted.append(instance_id)
        for instance_id in evicted:
            del self._order[instance_id]
        self.evictions += len(evicted)
        return evicted


def replayed(orchestration: Orchestration, history: Iterable[HistoryEvent]) -> Orchestration:
    """``orchestration`` brought to the end of ``history`` by a cold replay. Decisions the
    history records are confirmed on the way; any other stays pending for the next
    episode to record."""
    for position, event in enumerate(history):
        orchestration.apply(event, replaying=True, position=position)
    return orchestration
