"""The DuckDB store's reads: each a query of its tables on an open connection.

The callers hold the store's lock and have written every committed batch first."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wfkit.core._history import FailureDetails, HistoryEvent
from wfkit.store._base import HistoryPage, HistoryRow, IndexRow, Payloads, StoredEvent
from wfkit.store._duckdb_schema import INBOX_KEY
from wfkit.store._rows import (
    HISTORY_COLUMNS,
    INSTANCE_COLUMNS,
    json_events,
    row_event,
    row_record,
)

if TYPE_CHECKING:
    import duckdb
    import pandas

    from wfkit.core._state import InstanceRecord

_EVENT_COLUMNS = "kind, ts, task_id, name, payload, failure, fields"
#: The columns :func:`stored_events` reads.
STORED_COLUMNS = f"instance_id, seq, epoch_us(wall_ts), {_EVENT_COLUMNS}"
INSTANCE_SELECT = "SELECT " + ", ".join(INSTANCE_COLUMNS) + " FROM instances"
_ANY_OF = "IN (SELECT unnest(?::VARCHAR[]))"

_INDEX = (
    "SELECT seq, kind, coalesce(task_id, -1) AS task_id, epoch_us(ts) AS ts,"
    " epoch_us(wall_ts) AS wall, name,"
    " coalesce(fields ->> 'task_execution_id', fields ->> 'instance_id') AS call,"
    " fields ->> 'origin' AS origin"
    " FROM history WHERE instance_id = ? AND seq >= ? ORDER BY seq"
)
_PAYLOADS = (
    "SELECT seq, payload, failure FROM history"
    " WHERE instance_id = ? AND seq IN (SELECT unnest(?::INTEGER[]))"
)
_PAGE_COLUMNS = (
    "h.instance_id, h.seq, h.kind, h.name, h.task_id, h.ts, h.wall_ts, h.payload, h.failure,"
    " h.fields"
)


# --------------------------------------------------------------------------- histories
def history_query(
    columns: str, instance_id: str, start: int, stop: int | None
) -> tuple[str, list[Any]]:
    """The query of the events ``start <= seq < stop`` of one instance, in order."""
    if start <= 0 and stop is None:
        return (
            f"SELECT {columns} FROM history WHERE instance_id = ? ORDER BY seq",
            [instance_id],
        )
    # The instance's rows come through the index first; then the range is cut.
    return (
        "WITH one AS MATERIALIZED (SELECT * FROM history WHERE instance_id = ?) "
        f"SELECT {columns} FROM one WHERE seq >= ? AND seq < ? ORDER BY seq",
        [instance_id, max(start, 0), 2**31 - 1 if stop is None else max(stop, 0)],
    )


def stored_events(result: duckdb.DuckDBPyConnection) -> list[StoredEvent]:
    """The stored events a query of :data:`STORED_COLUMNS` returns, read by columns
    (half the cost of fetching a tuple per row)."""
    columns = [column.tolist() for column in result.fetchnumpy().values()]
    return [
        StoredEvent(iid, seq, row_event(kind, ts, task, name, payload, failure, fields), wall / 1e6)
        for iid, seq, wall, kind, ts, task, name, payload, failure, fields in zip(
            *columns, strict=True
        )
    ]


def read_history(
    con: duckdb.DuckDBPyConnection, instance_id: str, start: int, stop: int | None
) -> list[StoredEvent]:
    query, params = history_query(STORED_COLUMNS, instance_id, start, stop)
    return stored_events(con.execute(query, params))


def read_histories(
    con: duckdb.DuckDBPyConnection, instance_ids: list[str]
) -> dict[str, list[StoredEvent]]:
    out: dict[str, list[StoredEvent]] = {i: [] for i in instance_ids}
    if not instance_ids:
        return out
    result = con.execute(
        f"SELECT {STORED_COLUMNS} FROM history WHERE instance_id {_ANY_OF} "
        "ORDER BY instance_id, seq",
        [instance_ids],
    )
    for stored in stored_events(result):
        out[stored.instance_id].append(stored)
    return out


def history_index(con: duckdb.DuckDBPyConnection, instance_id: str, start: int) -> list[IndexRow]:
    """Narrow rows, read by columns (a long history's index reads them all)."""
    result = con.execute(_INDEX, [instance_id, start])
    columns = [column.tolist() for column in result.fetchnumpy().values()]
    return list(zip(*columns, strict=True))


def history_payloads(
    con: duckdb.DuckDBPyConnection, instance_id: str, seqs: Iterable[int]
) -> Payloads:
    rows = con.execute(_PAYLOADS, [instance_id, list(seqs)]).fetchall()
    out: Payloads = {}
    for seq, payload, failure in rows:
        details = None
        if failure is not None:
            data = json.loads(failure)
            details = FailureDetails(
                data.get("message", ""), data.get("error_type", ""), data.get("stack_trace")
            )
        out[int(seq)] = (payload, details)
    return out


def history_page(
    con: duckdb.DuckDBPyConnection,
    *,
    instance_id: str | None,
    kind: str | None,
    name: str | None,
    offset: int,
    limit: int,
) -> HistoryPage:
    """One query for the page (``LIMIT``/``OFFSET``), one for the count."""
    where, params = ["true"], []
    if instance_id:
        where.append("h.instance_id = ?")
        params.append(instance_id)
    if kind:
        where.append("h.kind = ?")
        params.append(kind)
    name_part = (name or "").strip().casefold()
    if name_part:
        where.append("contains(lower(coalesce(h.name, '')), ?)")
        params.append(name_part)
    condition = " AND ".join(where)
    count = con.execute(f"SELECT count(*) FROM history AS h WHERE {condition}", params).fetchone()
    rows = con.execute(
        f"SELECT {_PAGE_COLUMNS} FROM history AS h"
        " LEFT JOIN instances AS i ON i.instance_id = h.instance_id"
        f" WHERE {condition} ORDER BY i.ordinal, h.seq LIMIT ? OFFSET ?",
        [*params, max(0, limit), max(0, offset)],
    ).fetchall()
    return HistoryPage([HistoryRow(*row) for row in rows], int(count[0]) if count else 0)


# --------------------------------------------------------------------------- instances
def read_records(con: duckdb.DuckDBPyConnection) -> list[InstanceRecord]:
    rows = con.execute(INSTANCE_SELECT + " ORDER BY ordinal").fetchall()
    return [row_record(row) for row in rows]


def read_record(con: duckdb.DuckDBPyConnection, instance_id: str) -> InstanceRecord | None:
    row = con.execute(INSTANCE_SELECT + " WHERE instance_id = ?", [instance_id]).fetchone()
    return row_record(row) if row else None


# --------------------------------------------------------------------------- DataFrames
def history_frame(
    con: duckdb.DuckDBPyConnection, instance_id: str, start: int, stop: int | None
) -> pandas.DataFrame:
    query, params = history_query(", ".join(HISTORY_COLUMNS), instance_id, start, stop)
    return con.execute(query, params).df()


def instances_frame(
    con: duckdb.DuckDBPyConnection,
    statuses: Sequence[str] | None,
    names: Sequence[str] | None,
) -> pandas.DataFrame:
    query = INSTANCE_SELECT + " WHERE true"
    params: list[Any] = []
    if statuses is not None:
        query += f" AND status {_ANY_OF}"
        params.append(list(statuses))
    if names is not None:
        query += f" AND name {_ANY_OF}"
        params.append(list(names))
    return con.execute(query + " ORDER BY ordinal", params).df()


# --------------------------------------------------------------------------- opening
def read_lengths(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The number of events of each instance's history."""
    rows = con.execute(
        "SELECT instance_id, max(seq)::INTEGER + 1 FROM history GROUP BY instance_id"
    ).fetchall()
    return dict(rows)


def read_ordinals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The creation ordinal of each instance."""
    return dict(con.execute("SELECT instance_id, ordinal FROM instances").fetchall())


def read_inboxes(con: duckdb.DuckDBPyConnection) -> dict[str, list[HistoryEvent]]:
    """The commands held for instances (``meta`` rows keyed ``inbox:<instance id>``)."""
    rows = con.execute(
        "SELECT key, value FROM meta WHERE starts_with(key, ?)", [INBOX_KEY]
    ).fetchall()
    return {key[len(INBOX_KEY) :]: json_events(value) for key, value in rows}


def read_clock(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The virtual time the last batch was committed at."""
    row = con.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None
