"""The DuckDB store's writes: accepted batches as a few statements in one transaction.

DuckDB pays about a millisecond per statement and about a microsecond per row appended in
bulk, so a write costs a few statements whatever it holds: the deletes of purged and
reset instances, one upsert of the instance records, one append of the events (a
multi-row VALUES for a few rows, a bulk scan of columns beyond; one per ``EVENT_PART``
events), and the clock when it moved.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from wfkit.core._errors import StoreError
from wfkit.core._history import HistoryEvent
from wfkit.core._state import InstanceRecord
from wfkit.store._base import StoredEvent
from wfkit.store._duckdb_schema import INBOX_KEY
from wfkit.store._pending import PendingWrites
from wfkit.store._rows import (
    HISTORY_COLUMNS,
    INSTANCE_COLUMNS,
    NO_TASK,
    event_row,
    events_json,
    record_row,
)

if TYPE_CHECKING:
    import duckdb

#: Up to this many rows go in one multi-row VALUES statement; more come from a bulk scan.
SMALL = 8

#: Up to this many rows go as a list parameter per column (no frame to register, which
#: costs about as much as the statement); a frame scans more faster.
LISTED = 128

#: Events one statement appends at most: a big write builds the rows of one part at a
#: time, as its statement runs, and drops them before the next (a 400k-event write would
#: otherwise build every row and column before its first statement runs).
EVENT_PART = 100_000

#: A statement and its parameters: a list, or the columns (by name) of the ``frame`` it
#: scans in bulk.
Statement = tuple[str, Any]
#: A statement, or what builds it when it is about to run.
Pending = Statement | Callable[[], Statement]

_HISTORY_SELECT = (
    "SELECT instance_id, seq, event_id, kind, name, make_timestamp(ts), make_timestamp(wall_ts), "
    "nullif(task_id, -1), payload, failure, fields"
)
_HISTORY_FROM_LISTS = (
    "INSERT INTO history SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]), "
    "unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
    "make_timestamp(unnest(?::BIGINT[])), make_timestamp(unnest(?::BIGINT[])), "
    "nullif(unnest(?::INTEGER[]), -1), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
    "unnest(?::VARCHAR[])"
)
_INSTANCE_FRAME_SELECT = "SELECT " + ", ".join(
    f"make_timestamp({c})" if c in ("created_at", "last_updated_at") else c
    for c in (*INSTANCE_COLUMNS, "ordinal")
)
_EVENT_PLACEHOLDERS = "(" + ", ".join(["?"] * len(HISTORY_COLUMNS)) + ")"
_ROW_COLUMNS = (*INSTANCE_COLUMNS, "ordinal")  # an instance row, as the writer holds it
_RECORD_PLACEHOLDERS = "(" + ", ".join(["?"] * (len(INSTANCE_COLUMNS) + 1)) + ")"
_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_TERMINAL = ("COMPLETED", "FAILED", "TERMINATED")
_ANY_OF = "IN (SELECT unnest(?::VARCHAR[]))"


class TableWriter:
    """Writes pending batches, knowing what the tables hold as far as writing needs: which
    instances have a row, the last row written of each unfinished one, the clock written."""

    def __init__(self, instance_ids: Iterable[str] = (), clock: datetime | None = None):
        self.in_db: set[str] = set(instance_ids)
        #: The record last written of each unfinished instance (records are immutable,
        #: and the engine holds them anyway: no row of its own per waiting instance)
        self.written: dict[str, InstanceRecord] = {}
        self.clock_written = clock

    def write(self, con: duckdb.DuckDBPyConnection, pending: PendingWrites, label: str) -> None:
        """Write ``pending`` in one transaction; on error, roll back and raise StoreError."""
        changed = self._changed_rows(pending)
        statements = self._statements(pending, changed)
        if not statements:
            return
        _execute(con, statements, label)
        self.in_db -= pending.purged
        self.in_db.update(changed)
        for instance_id in pending.purged:
            self.written.pop(instance_id, None)
        for instance_id, row in changed.items():
            if row[2] in _TERMINAL:  # finished instances seldom change again
                self.written.pop(instance_id, None)
            else:
                self.written[instance_id] = pending.records[instance_id][0]
        if pending.clock is not None:
            self.clock_written = pending.clock

    def _changed_rows(self, pending: PendingWrites) -> dict[str, tuple[Any, ...]]:
        """The instance rows to write (with their ordinals): unchanged rows are not."""
        purged, written = pending.purged, self.written
        return {
            instance_id: (*record_row(record), ordinal)
            for instance_id, (record, ordinal) in pending.records.items()
            if instance_id in purged or written.get(instance_id) != record
        }

    def _statements(
        self, pending: PendingWrites, changed: dict[str, tuple[Any, ...]]
    ) -> list[Pending]:
        statements: list[Pending] = []
        if pending.dropped:
            statements.append(
                (f"DELETE FROM history WHERE instance_id {_ANY_OF}", [sorted(pending.dropped)])
            )
        stale = pending.purged & self.in_db
        if stale:
            statements.append(
                (f"DELETE FROM instances WHERE instance_id {_ANY_OF}", [sorted(stale)])
            )
        if changed:
            statements.extend(self._upsert(changed, pending.purged))
        events = _by_instance(pending.live_events())
        for start in range(0, len(events), EVENT_PART):
            statements.append(functools.partial(insert_events, events[start : start + EVENT_PART]))
        if pending.inbox:
            statements.extend(_inbox_statements(pending.inbox))
        clock = pending.clock
        if clock is not None and clock != self.clock_written:
            statements.append(
                ("UPDATE meta SET value = ? WHERE key = 'clock'", [clock.isoformat()])
            )
        return statements

    def _upsert(self, rows: dict[str, tuple[Any, ...]], purged: set[str]) -> list[Statement]:
        """The statements writing instance rows: an INSERT of the new ones, an UPDATE of
        the columns that changed in the others (an INSERT OR REPLACE costs several
        times as much: it deletes and inserts every row, with their key lookups)."""
        in_db = self.in_db
        new = {i: r for i, r in rows.items() if i not in in_db or i in purged}  # purged:
        old = {i: r for i, r in rows.items() if i not in new}  # their rows go first
        statements: list[Statement] = []
        if new:
            statements.append(_insert(new))
        if len(old) == 1:
            ((instance_id, row),) = old.items()
            statements.append(_update(instance_id, row, self._written_row(instance_id)))
        elif old:
            written = {i: self._written_row(i) for i in old}
            statements.append(_update_many(old, written))
        return statements

    def _written_row(self, instance_id: str) -> tuple[Any, ...] | None:
        """The row last written of an instance, if known (kept as its record: a row is
        built again only for the few rows an update compares)."""
        record = self.written.get(instance_id)
        return None if record is None else record_row(record)


def _insert(rows: dict[str, tuple[Any, ...]]) -> Statement:
    if len(rows) <= SMALL:
        return (
            "INSERT INTO instances VALUES " + ", ".join([_RECORD_PLACEHOLDERS] * len(rows)),
            [value for row in rows.values() for value in row],
        )
    return (
        f"INSERT INTO instances {_INSTANCE_FRAME_SELECT} FROM frame",
        frame([*INSTANCE_COLUMNS, "ordinal"], list(zip(*rows.values(), strict=True))),
    )


def _update_many(
    rows: dict[str, tuple[Any, ...]], written: dict[str, tuple[Any, ...] | None]
) -> Statement:
    """One UPDATE of several instance rows: the columns that changed in any of them
    (each against its row as written, all when that is not known). Rows that take the
    same values set them once; else a few rows take each column's values by key, and
    more are joined with a frame of them (a join hashes the whole table)."""
    columns = sorted(
        {i for instance_id, row in rows.items() for i in _changed(row, written.get(instance_id))}
    )
    names = ["instance_id", *(_ROW_COLUMNS[i] for i in columns)]
    values = [(row[0], *(row[i] for i in columns)) for row in rows.values()]
    shared = {row[1:] for row in values}
    if len(shared) == 1:  # (a turn's: the same time, status) a quarter cheaper than CASE
        sets = ", ".join(f"{name} = ?" for name in names[1:])
        ids = [row[0] for row in values]
        if len(ids) <= LISTED:
            keys = ", ".join(["?"] * len(ids))
            return (
                f"UPDATE instances SET {sets} WHERE instance_id IN ({keys})",
                [*shared.pop(), *ids],
            )
        return (f"UPDATE instances SET {sets} WHERE instance_id {_ANY_OF}", [*shared.pop(), ids])
    if len(rows) <= SMALL:
        whens = " ".join(["WHEN ? THEN ?"] * len(values))
        params: list[Any] = []
        for position in range(1, len(names)):
            for row in values:
                params.extend((row[0], row[position]))
        params.extend(row[0] for row in values)
        sets = ", ".join(f"{name} = CASE instance_id {whens} END" for name in names[1:])
        keys = ", ".join(["?"] * len(values))
        return (f"UPDATE instances SET {sets} WHERE instance_id IN ({keys})", params)
    select = ", ".join(
        f"make_timestamp({n}) AS {n}" if n in ("created_at", "last_updated_at") else n
        for n in names
    )
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    return (
        f"UPDATE instances SET {assignments} FROM (SELECT {select} FROM frame) AS v "
        "WHERE instances.instance_id = v.instance_id",
        frame(names, list(zip(*values, strict=True))),
    )


def _changed(row: tuple[Any, ...], before: tuple[Any, ...] | None) -> list[int]:
    """Positions of the columns of an instance row (its id aside) that differ from
    ``before``, the record's columns last written (all when it is not known; the ordinal
    that ends ``row`` never changes for a row already written)."""
    if before is None:
        return list(range(1, len(row)))
    return [i for i in range(1, len(before)) if before[i] != row[i]]


def _update(instance_id: str, row: tuple[Any, ...], before: tuple[Any, ...] | None) -> Statement:
    """The UPDATE of the columns of one instance row that changed since ``before``."""
    columns = _changed(row, before)
    assignments = ", ".join(f"{_ROW_COLUMNS[i]} = ?" for i in columns)
    return (
        f"UPDATE instances SET {assignments} WHERE instance_id = ?",
        [*(row[i] for i in columns), instance_id],
    )


def _inbox_statements(inbox: dict[str, list[HistoryEvent]]) -> list[Statement]:
    """Replace the held commands of the instances in ``inbox`` (rows of ``meta``)."""
    keys = sorted(INBOX_KEY + instance_id for instance_id in inbox)
    held = {INBOX_KEY + i: events_json(events) for i, events in inbox.items() if events}
    statements: list[Statement] = [(f"DELETE FROM meta WHERE key {_ANY_OF}", [keys])]
    if held:
        statements.append(
            (
                "INSERT INTO meta SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
                [list(held), list(held.values())],
            )
        )
    return statements


def _by_instance(events: list[StoredEvent]) -> list[StoredEvent]:
    """Each instance's events together: the table is read an instance at a time."""
    streams: dict[str, list[StoredEvent]] = {}
    for stored in events:
        stream = streams.get(stored.instance_id)
        if stream is None:
            stream = streams[stored.instance_id] = []
        stream.append(stored)
    return [s for stream in streams.values() for s in stream]


def _execute(con: duckdb.DuckDBPyConnection, statements: list[Pending], label: str) -> None:
    single = len(statements) == 1  # one statement is a transaction of its own
    try:
        if not single:
            con.execute("BEGIN TRANSACTION")
        for statement in statements:
            query, params = statement() if callable(statement) else statement
            # a bulk statement reads its columns from ``frame``, registered by name (files
            # are opened with external access off, which also turns off DuckDB's scans of
            # Python variables)
            if isinstance(params, dict):
                _register(con, "frame", params)
                try:
                    con.execute(query)
                finally:
                    con.unregister("frame")
            else:
                con.execute(query, params)
        if not single:
            con.execute("COMMIT")
    except BaseException as exc:
        if not single:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
        if isinstance(exc, Exception) and not isinstance(exc, StoreError):
            raise StoreError(
                f"could not commit to the store {label}; nothing of the batch was written: {exc}"
            ) from exc
        raise


def insert_events(events: list[StoredEvent]) -> Statement:
    """One statement appending the events: a VALUES list when they are few, a list per
    column when they are some, else a bulk scan of their columns."""
    rows = [event_row(stored) for stored in events]
    if len(rows) <= SMALL:
        params: list[Any] = []
        for row in rows:
            params.extend(row[:6])
            params.append(_EPOCH + timedelta(microseconds=row[6]))
            params.append(None if row[7] == NO_TASK else row[7])
            params.extend(row[8:])
        return (
            "INSERT INTO history VALUES " + ", ".join([_EVENT_PLACEHOLDERS] * len(rows)),
            params,
        )
    columns = list(zip(*rows, strict=True))
    if len(rows) <= LISTED:
        lists: list[Any] = [list(c) for c in columns]
        lists[5] = _micros(lists[5])
        return (_HISTORY_FROM_LISTS, lists)
    return (
        f"INSERT INTO history {_HISTORY_SELECT} FROM frame",
        frame(list(HISTORY_COLUMNS), columns),
    )


def _register(con: duckdb.DuckDBPyConnection, name: str, data: Any) -> None:
    complete = getattr(con, "complete", None)  # DuckDB 2 registers only once the last
    if complete is not None:  # result was run to its end (a read may have stopped early)
        complete()
    con.register(name, data)


def frame(names: list[str], columns: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Columns for DuckDB to scan in bulk (a dict of NumPy arrays: DuckDB reads it as it
    reads a DataFrame, without importing pandas). Text and nullable columns stay Python
    objects (None is NULL, never NaN); timestamps become integer microseconds (the SQL
    makes them timestamps again: a tenth of the cost of NumPy converting datetimes)."""
    import numpy

    data: dict[str, Any] = {}
    for name, values in zip(names, columns, strict=True):
        if name in ("ts", "created_at", "last_updated_at"):
            data[name] = numpy.array(_micros(values), dtype=numpy.int64)
        elif name in ("seq", "event_id", "wall_ts", "task_id", "ordinal"):
            data[name] = numpy.array(values, dtype=numpy.int64)
        else:
            data[name] = numpy.array(values, dtype=object)
    return data


def _micros(times: Iterable[datetime]) -> list[int]:
    """Naive UTC datetimes as microseconds since the epoch. Events of one turn share their
    timestamp, so each distinct one is converted once."""
    seen: dict[datetime, int] = {}
    out = []
    for when in times:
        micros = seen.get(when)
        if micros is None:
            naive = when if when.tzinfo is None else when.astimezone(UTC).replace(tzinfo=None)
            micros = seen[when] = (naive - _EPOCH) // _MICROSECOND
        out.append(micros)
    return out
