"""Pages of history rows and DataFrames, read from any history store.

What widgets and read models show (a filtered page of events, the DataFrames of
``wfr.history`` and ``wfr.instances``) is asked of the store: a store that serves it
itself (a :class:`~wfkit.store.BrowsableStore`, such as DuckDB's, answering with SQL)
does; any other store is read through the base protocol here, by a scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from wfkit.core._state import InstanceRecord
from wfkit.core._time import from_epoch_seconds
from wfkit.store import _rows
from wfkit.store._base import BrowsableStore, HistoryPage, HistoryRow, HistoryStore, StoredEvent

if TYPE_CHECKING:
    import pandas


def history_row(stored: StoredEvent) -> HistoryRow:
    """The row of one stored event, as the ``history`` table holds it."""
    (instance_id, seq, _eid, kind, name, ts, wall, task_id, payload, failure, fields) = (
        _rows.event_row(stored)
    )
    return HistoryRow(
        instance_id=instance_id,
        seq=seq,
        kind=kind,
        name=name,
        task_id=None if task_id == _rows.NO_TASK else task_id,
        ts=ts,
        wall_ts=from_epoch_seconds(wall / 1_000_000),
        payload=payload,
        failure=failure,
        fields=fields,
    )


def scan_history_page(
    store: HistoryStore,
    *,
    instance_id: str | None = None,
    kind: str | None = None,
    name: str | None = None,
    offset: int = 0,
    limit: int = 25,
) -> HistoryPage:
    """:meth:`BrowsableStore.history_page` for any store, read through ``history()``:
    a ranged read of one instance's history when nothing else filters, else a scan."""
    offset, limit = max(0, offset), max(0, limit)
    name_part = (name or "").strip().casefold()
    if instance_id and not kind and not name_part:
        total = len(store.history(instance_id))
        page = store.history(instance_id, start=offset, stop=offset + limit)
        return HistoryPage([history_row(s) for s in page], total)
    ids = [instance_id] if instance_id else [r.instance_id for r in store.records()]
    rows: list[HistoryRow] = []
    total = 0
    for iid in ids:
        for stored in store.history(iid):
            if kind and stored.event.kind != kind:
                continue
            if name_part:
                row = history_row(stored)  # the table's name column, as SQL filters it
                if name_part not in (row.name or "").casefold():
                    continue
            if offset <= total < offset + limit:
                rows.append(history_row(stored))
            total += 1
    return HistoryPage(rows, total)


def history_page(
    store: HistoryStore,
    *,
    instance_id: str | None = None,
    kind: str | None = None,
    name: str | None = None,
    offset: int = 0,
    limit: int = 25,
) -> HistoryPage:
    """One page of history rows, in instance creation order then ``seq``, and the number
    of rows that match.

    Args:
        instance_id: one instance's history, or None for every instance.
        kind: an event kind (``TaskScheduled``, ``TimerFired``, ...).
        name: part of the event's name (activity, event, workflow), case-insensitive.
    """
    if isinstance(store, BrowsableStore):
        return store.history_page(
            instance_id=instance_id, kind=kind, name=name, offset=offset, limit=limit
        )
    return scan_history_page(
        store, instance_id=instance_id, kind=kind, name=name, offset=offset, limit=limit
    )


def filter_records(
    records: Iterable[InstanceRecord],
    *,
    statuses: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> list[InstanceRecord]:
    """The records whose status name and workflow name are among those given."""
    return [
        r
        for r in records
        if (statuses is None or r.status.name in statuses) and (names is None or r.name in names)
    ]


def history_frame(
    store: HistoryStore, instance_id: str, *, start: int = 0, stop: int | None = None
) -> pandas.DataFrame:
    """One instance's history as a DataFrame, columns as the ``history`` table."""
    if isinstance(store, BrowsableStore):
        return store.history_frame(instance_id, start=start, stop=stop)
    return _rows.history_frame(store.history(instance_id, start=start, stop=stop))


def instances_frame(
    store: HistoryStore,
    *,
    statuses: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> pandas.DataFrame:
    """The instances (oldest first) as a DataFrame, columns as the ``instances`` table."""
    if isinstance(store, BrowsableStore):
        return store.instances_frame(statuses=statuses, names=names)
    return _rows.instances_frame(filter_records(store.records(), statuses=statuses, names=names))
