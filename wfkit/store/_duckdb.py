"""DuckDB store: instances and histories as SQL tables, in memory or in a file.

Write path. DuckDB pays about a millisecond per statement and about a microsecond per row
appended in bulk, so a commit costs a few statements whatever it holds: the deletes of
purged and reset instances, one upsert of the instance records, one append of the events
(a multi-row VALUES for a few rows, a pandas DataFrame beyond), and the clock when it
moved, in one transaction.

* A file store writes every batch through at once, in its own transaction: the engine
  commits one batch per turn (every instance that was ready at once) before it dispatches
  a side effect, so what a user or an activity sees is on disk.
* An in-memory store has nothing to lose to a crash, so it validates each batch at once
  (a bad batch is refused whole) and writes batches to DuckDB in groups, off the engine's
  path: when SQL or a DataFrame is asked for, and whenever many rows are waiting. Instance
  records and recent histories are answered from memory; every read sees every committed
  batch.

Only one process may have a store file open for writing. Opening it read-only while
another process writes reads a snapshot (a copy of the file taken when it is opened).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfkit.core._errors import StoreCorruptError, StoreError, StoreLockedError
from wfkit.core._gc import gc_paused
from wfkit.core._history import HistoryEvent
from wfkit.core._state import InstanceRecord
from wfkit.store._base import Batch, StoredEvent, check_batch
from wfkit.store._duckdb_file import CONFIG, check_is_duckdb, check_layout, first_line, open_error
from wfkit.store._pending import PendingWrites
from wfkit.store._rows import (
    HISTORY_COLUMNS,
    INSTANCE_COLUMNS,
    NO_TASK,
    event_row,
    events_json,
    json_events,
    record_row,
    row_event,
    row_record,
)

if TYPE_CHECKING:
    import duckdb
    import pandas

#: Version of the table layout below; a file with a higher one is refused.
SCHEMA_VERSION = 1
APPLICATION = "wfkit"
#: Key prefix of the meta rows holding an instance's new events (``Batch.inbox``)
INBOX_KEY = "inbox:"

#: Up to this many rows go in one multi-row VALUES statement; more come from a DataFrame.
SMALL = 8
#: In-memory stores write their waiting batches once this many rows are waiting (a run of
#: a few hundred thousand events never waits for DuckDB; memory stays bounded beyond).
FLUSH_ROWS = 400_000
#: Events of the histories committed last that stay in memory, so that reading them back
#: in this process (a time-travel cursor, a widget) skips decoding rows.
RECENT_EVENTS = 200_000

_SCHEMA = [
    """CREATE TABLE schema_version (
        application VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        wfkit_version VARCHAR,
        created_at TIMESTAMP
    )""",
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE instances (
        instance_id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        last_updated_at TIMESTAMP NOT NULL,
        input VARCHAR,
        output VARCHAR,
        custom_status VARCHAR,
        failure_message VARCHAR,
        failure_type VARCHAR,
        failure_stack VARCHAR,
        parent_instance_id VARCHAR,
        parent_task_id INTEGER,
        start_at TIMESTAMP,
        origin_instance_id VARCHAR,
        origin_event_id INTEGER,
        ordinal BIGINT NOT NULL
    )""",
    """CREATE TABLE history (
        instance_id VARCHAR NOT NULL,
        seq INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        name VARCHAR,
        ts TIMESTAMP NOT NULL,
        wall_ts TIMESTAMP NOT NULL,
        task_id INTEGER,
        payload VARCHAR,
        failure VARCHAR,
        fields VARCHAR
    )""",
    "CREATE INDEX history_instance ON history (instance_id)",
    """CREATE VIEW timers AS
    SELECT
        c.instance_id,
        c.task_id AS timer_id,
        c.fields ->> 'origin' AS origin,
        c.name,
        c.ts AS created,
        CASE WHEN CAST(c.fields ->> 'fire_at' AS TIMESTAMP) = TIMESTAMP '9999-12-31 23:59:59.999999'
             THEN NULL ELSE CAST(c.fields ->> 'fire_at' AS TIMESTAMP) END AS fire_at,
        f.ts AS fired,
        CASE WHEN f.seq IS NOT NULL THEN 'fired'
             WHEN i.status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN 'canceled'
             ELSE 'pending' END AS state,
        c.seq AS created_seq,
        f.seq AS fired_seq
    FROM history AS c
    LEFT JOIN history AS f
        ON f.instance_id = c.instance_id AND f.kind = 'TimerFired' AND f.task_id = c.task_id
    LEFT JOIN instances AS i ON i.instance_id = c.instance_id
    WHERE c.kind = 'TimerCreated'""",
    """CREATE VIEW tasks AS
    WITH scheduled AS (
        SELECT
            instance_id, seq, task_id, name, ts, wall_ts,
            CASE kind WHEN 'TaskScheduled' THEN 'activity' ELSE 'child_workflow' END AS kind,
            CASE kind
                WHEN 'TaskScheduled'
                THEN coalesce(nullif(fields ->> 'task_execution_id', ''), 'task:' || task_id)
                ELSE 'child:' || (fields ->> 'instance_id')
            END AS call_key,
            nullif(fields ->> 'task_execution_id', '') AS task_execution_id,
            fields ->> 'instance_id' AS child_instance_id
        FROM history
        WHERE kind IN ('TaskScheduled', 'ChildWorkflowInstanceCreated')
    ),
    closing AS (
        SELECT instance_id, task_id, kind, ts, wall_ts, payload, failure
        FROM history
        WHERE kind IN ('TaskCompleted', 'TaskFailed',
                       'ChildWorkflowInstanceCompleted', 'ChildWorkflowInstanceFailed')
    ),
    attempts AS (
        SELECT
            s.*,
            c.kind AS closed_kind, c.ts AS closed_ts, c.wall_ts AS closed_wall_ts,
            c.payload AS result, c.failure AS failure,
            row_number() OVER (PARTITION BY s.instance_id, s.call_key ORDER BY s.seq DESC)
                AS from_last
        FROM scheduled AS s
        LEFT JOIN closing AS c ON c.instance_id = s.instance_id AND c.task_id = s.task_id
    ),
    calls AS (
        SELECT
            instance_id,
            min(task_id) AS task_id,
            list(task_id ORDER BY seq) AS task_ids,
            any_value(kind) AS kind,
            arg_min(name, seq) AS name,
            arg_min(task_execution_id, seq) AS task_execution_id,
            arg_min(child_instance_id, seq) AS child_instance_id,
            min(ts) AS scheduled,
            max(closed_ts) FILTER (WHERE from_last = 1) AS completed,
            min(wall_ts) AS wall_scheduled,
            max(closed_wall_ts) FILTER (WHERE from_last = 1) AS wall_completed,
            count(*)::INTEGER AS attempts,
            max(closed_kind) FILTER (WHERE from_last = 1) AS closed_kind,
            max(result) FILTER (WHERE from_last = 1) AS result,
            max(failure) FILTER (WHERE from_last = 1) AS failure,
            min(seq) AS scheduled_seq
        FROM attempts
        GROUP BY instance_id, call_key
    )
    SELECT
        c.instance_id, c.task_id, c.task_ids, c.kind, c.name, c.task_execution_id,
        c.child_instance_id, c.scheduled, c.completed, c.completed - c.scheduled AS duration,
        c.wall_completed - c.wall_scheduled AS wall_duration, c.attempts,
        CASE
            WHEN c.closed_kind LIKE '%Completed' THEN 'completed'
            WHEN c.closed_kind LIKE '%Failed' THEN 'failed'
            WHEN i.status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN 'canceled'
            ELSE 'pending'
        END AS outcome,
        c.result, c.failure, c.scheduled_seq
    FROM calls AS c
    LEFT JOIN instances AS i ON i.instance_id = c.instance_id""",
]

_HISTORY_SELECT = (
    "SELECT instance_id, seq, event_id, kind, name, make_timestamp(ts), make_timestamp(wall_ts), "
    "nullif(task_id, -1), payload, failure, fields"
)
_INSTANCE_FRAME_SELECT = "SELECT " + ", ".join(
    f"make_timestamp({c})" if c in ("created_at", "last_updated_at") else c
    for c in (*INSTANCE_COLUMNS, "ordinal")
)
_EVENT_PLACEHOLDERS = "(" + ", ".join(["?"] * len(HISTORY_COLUMNS)) + ")"
_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)
_TERMINAL = ("COMPLETED", "FAILED", "TERMINATED")
_RECORD_PLACEHOLDERS = "(" + ", ".join(["?"] * (len(INSTANCE_COLUMNS) + 1)) + ")"
_EVENT_COLUMNS = "kind, ts, task_id, name, payload, failure, fields"
_STORED_COLUMNS = f"instance_id, seq, epoch_us(wall_ts), {_EVENT_COLUMNS}"
_INSTANCE_SELECT = "SELECT " + ", ".join(INSTANCE_COLUMNS) + " FROM instances"

# Files open for writing in this process (a second writer on one file would corrupt it).
_writers: weakref.WeakValueDictionary[str, DuckDBStore] = weakref.WeakValueDictionary()
_writers_lock = threading.Lock()
# Stores with an open connection, closed when the interpreter exits (a file is
# checkpointed; DuckDB objects still referenced by daemon threads are released).
_open_stores: weakref.WeakSet[DuckDBStore] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for store in list(_open_stores):
        store._close(final=True)


class DuckDBStore:
    """Instances and histories in DuckDB tables, in memory (default) or in a file.

    Args:
        path: ``":memory:"`` (default) or the path of a database file, created if missing.
        read_only: open an existing file for reading only. If another process has the file
            open for writing, this reads a snapshot of it taken now.

    Query the tables with ``wfr.sql(...)`` (see ``docs/store.md`` for the layout).
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, read_only: bool = False):
        self._memory = str(path) == ":memory:"
        if self._memory and read_only:
            raise ValueError("an in-memory DuckDB store cannot be opened read-only")
        self.path: Path | None = None if self._memory else Path(path).expanduser().absolute()
        self.read_only = read_only
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._snapshot: tempfile.TemporaryDirectory[str] | None = None
        # A descriptor of the file, kept open while DuckDB has it open: this process reads
        # the file through it (a snapshot) instead of opening and closing the file, as
        # closing any descriptor of a file releases all of the process's locks on it,
        # DuckDB's included.
        self._fd: int | None = None
        self._pending = PendingWrites()  # accepted, not yet written (in-memory stores)
        self._lengths: dict[str, int] = {}  # history length per instance (committed batches)
        self._order: dict[str, int] = {}  # creation ordinal per instance (committed batches)
        self._next_order = 0
        self._in_db: set[str] = set()  # instances with a row in the instances table
        self._written: dict[str, tuple[Any, ...]] = {}  # last row written, unfinished ones
        self._clock: datetime | None = None
        self._clock_written: datetime | None = None
        self._final = False
        # whole histories (from seq 0) committed through this store, least recent first
        self._recent: OrderedDict[str, list[StoredEvent]] = OrderedDict()
        self._recent_events = 0
        with self._lock:
            self._connection()

    # ------------------------------------------------------------------ opening
    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            if self._final:
                raise StoreError(f"the store {self._label()} was closed as the process exits")
            with self._guard():
                self._con = self._open()
                try:
                    self._load()
                except BaseException:
                    con, self._con = self._con, None
                    con.close()
                    raise
            _open_stores.add(self)
        return self._con

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """DuckDB's errors in wfkit's own queries as wfkit's: a store file DuckDB cannot
        read back is damaged (the user's own SQL, in ``sql()``, keeps DuckDB's errors)."""
        import duckdb

        try:
            yield
        except duckdb.Error as exc:
            if self.path is None:
                raise StoreError(f"the in-memory store failed: {exc}") from exc
            raise StoreCorruptError(
                f"the wfkit store {self._label()} is damaged: DuckDB cannot read it back "
                f"({first_line(exc)}); the file was left as it was. "
                "Restore it from a copy."
            ) from None

    def _open(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        if self.path is None:
            con = duckdb.connect(":memory:")
            _create_schema(con)
            return con
        path = self.path
        key = str(path.resolve())
        here = _held_here(key, self)
        if self.read_only:
            if here is not None and here._fd is not None and not here.read_only:
                return self._checked(self._open_snapshot(path, fd=here._fd), path)
            if here is not None:  # DuckDB shares the other read-only connection's database
                return self._checked(_connect(path, read_only=True), path)
            return self._open_read_only(path)
        if here is not None and here.read_only:
            raise StoreLockedError(
                f"the wfkit store {str(path)!r} is open read-only in this process ({here!r}); "
                "close it first (wfr.shutdown(), or store.close()) to open it for writing."
            )
        with _writers_lock:
            other = _writers.get(key)
            if other is not None and other is not self and other._con is not None:
                raise StoreLockedError(
                    f"the wfkit store {str(path)!r} is already open for writing in this process "
                    f"({other!r}). Use that store (or its runtime), or close it first "
                    "(wfr.shutdown() closes the store of a runtime). To read it alongside, "
                    f"open it read-only: WorkflowRuntime(store=DuckDBStore({str(path)!r}, "
                    "read_only=True))."
                )
            if path.exists() and path.stat().st_size == 0:
                path.unlink()  # an empty file (a fresh temporary file): DuckDB starts it anew
            fresh = not path.exists()
            if not fresh:
                check_is_duckdb(path)
                fresh = self._inspect(path) is None
            con = _connect(path, read_only=False)
            try:
                if fresh:
                    _create_schema(con)
                else:
                    _check_schema(con, path)
                    _probe_write(con)
                _shadow_views(con)
                self._fd = os.open(path, os.O_RDONLY)
            except BaseException:
                con.close()
                raise
            _writers[key] = self
        return con

    def _inspect(self, path: Path) -> int | None:
        """The schema version of an existing file (None: an empty database), read without
        writing to it; raises if it is locked or not a wfkit store."""
        con = _connect(path, read_only=True)
        try:
            return _check_schema(con, path, allow_empty=True)
        finally:
            con.close()

    def _open_read_only(self, path: Path) -> duckdb.DuckDBPyConnection:

        if not path.exists():
            raise FileNotFoundError(f"no wfkit store at {str(path)!r} to open read-only")
        check_is_duckdb(path)
        try:
            con = _connect(path, read_only=True)
        except StoreLockedError:
            con = self._open_snapshot(path)
        return self._checked(con, path)

    @staticmethod
    def _checked(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyConnection:
        """``con`` once its file is known to be a wfkit store (else closed, and raises)."""
        try:
            _check_schema(con, path)
            _shadow_views(con)
        except BaseException:
            con.close()
            raise
        return con

    def _open_snapshot(self, path: Path, *, fd: int | None = None) -> duckdb.DuckDBPyConnection:
        """Copy a file another process is writing (with its write-ahead log) and open the
        copy. The copy is retried until the main file did not change while it was taken.
        A file this process writes is read through its writer's descriptor ``fd``."""
        import duckdb

        self._snapshot = tempfile.TemporaryDirectory(prefix="wfkit-snapshot-")
        copy = Path(self._snapshot.name) / path.name
        wal = Path(str(path) + ".wal")
        last: Exception | None = None
        for _attempt in range(50):
            before = path.stat() if fd is None else os.fstat(fd)
            if fd is None:
                shutil.copyfile(path, copy)
            else:
                _copy_from(fd, copy)
            copy_wal = Path(str(copy) + ".wal")
            with contextlib.suppress(FileNotFoundError):
                copy_wal.unlink()
            with contextlib.suppress(FileNotFoundError):
                shutil.copyfile(wal, copy_wal)
            after = path.stat() if fd is None else os.fstat(fd)
            if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size):
                time.sleep(0.01)
                continue
            try:
                return duckdb.connect(str(copy), config=CONFIG)
            except duckdb.Error as exc:
                if _attempt >= 2:  # the file holds still and its copy cannot be read
                    raise open_error(copy, exc, read_only=True, shown=path) from None
                last = exc
                time.sleep(0.01)
        raise StoreError(
            f"could not take a consistent snapshot of {str(path)!r} while another process "
            f"writes it ({last or 'the file kept changing'}); try again, or stop the writer"
        )

    def _load(self) -> None:
        """Read what validating and numbering new batches needs."""
        con = self._con
        assert con is not None
        self._pending = PendingWrites()
        self._lengths = dict(
            con.execute(
                "SELECT instance_id, max(seq)::INTEGER + 1 FROM history GROUP BY instance_id"
            ).fetchall()
        )
        self._order = dict(con.execute("SELECT instance_id, ordinal FROM instances").fetchall())
        self._in_db = set(self._order)
        self._written = {}
        self._next_order = max(self._order.values(), default=-1) + 1
        row = con.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        self._clock = datetime.fromisoformat(row[0]) if row and row[0] else None
        self._clock_written = self._clock

    # ------------------------------------------------------------------ writing
    def commit(self, batch: Batch) -> None:
        with self._lock:
            if self.read_only:
                if not batch:
                    return  # only the clock moved: nothing to record in a read-only store
                raise StoreError(
                    f"the store {self._label()} is open read-only; it cannot record changes"
                )
            self._connection()
            after = check_batch(batch, self._lengths)
            ordinals: dict[str, int] = {}
            purged = batch.purges
            next_order = self._next_order
            for instance_id in batch.records:
                ordinal = None if instance_id in purged else self._order.get(instance_id)
                if ordinal is None:
                    ordinal = next_order
                    next_order += 1
                ordinals[instance_id] = ordinal
            if self.path is not None:
                single = PendingWrites()
                single.add(batch, ordinals)
                self._write(single)
            else:
                self._pending.add(batch, ordinals)
            # the batch is accepted: bring the bookkeeping up to date
            for instance_id in purged:
                self._order.pop(instance_id, None)
            self._order.update(ordinals)
            self._next_order = next_order
            for instance_id, length in after.items():
                if length < 0:
                    self._lengths.pop(instance_id, None)
                else:
                    self._lengths[instance_id] = length
            if batch.clock_time is not None:
                self._clock = batch.clock_time
            self._remember(batch)
            if self._pending.rows >= FLUSH_ROWS:
                self._flush()

    def _remember(self, batch: Batch) -> None:
        """Keep an accepted batch's events in the recent histories (lock held)."""
        recent = self._recent
        if batch.purges or batch.resets:
            for instance_id in batch.purges | batch.resets:
                self._recent_events -= len(recent.pop(instance_id, ()))
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
            self._recent_events += 1
            if instance_id != last:
                recent.move_to_end(instance_id)
                last = instance_id
        while self._recent_events > RECENT_EVENTS and recent:
            self._recent_events -= len(recent.popitem(last=False)[1])

    def _flush(self) -> None:
        """Write the batches an in-memory store holds back (lock held)."""
        if self._pending:
            self._write(self._pending)
            self._pending = PendingWrites()

    def _write(self, pending: PendingWrites) -> None:
        """Write ``pending`` in one transaction; on error, roll back."""
        with gc_paused():  # a bulk write builds a row per event, all kept until written
            self._write_rows(pending)

    def _write_rows(self, pending: PendingWrites) -> None:
        purged = pending.purged
        dropped = pending.dropped
        records = {
            instance_id: (*record_row(record), ordinal)
            for instance_id, (record, ordinal) in pending.records.items()
        }
        # each instance's events together: the table is read an instance at a time
        events: dict[str, list[StoredEvent]] = {}
        for stored in pending.live_events():
            stream = events.get(stored.instance_id)
            if stream is None:
                stream = events[stored.instance_id] = []
            stream.append(stored)
        clock = pending.clock
        statements: list[tuple[str, Any]] = []
        if dropped:
            statements.append(
                (
                    "DELETE FROM history WHERE instance_id IN (SELECT unnest(?::VARCHAR[]))",
                    [sorted(dropped)],
                )
            )
        stale = purged & self._in_db
        if stale:
            statements.append(
                (
                    "DELETE FROM instances WHERE instance_id IN (SELECT unnest(?::VARCHAR[]))",
                    [sorted(stale)],
                )
            )
        changed = {
            i: row
            for i, row in records.items()
            if i in purged or self._written.get(i) != row  # unchanged rows are not rewritten
        }
        if changed:
            statements.append(self._upsert(changed, purged))
        if events:
            statements.append(_insert_events([s for stream in events.values() for s in stream]))
        if pending.inbox:
            statements.extend(_inbox_statements(pending.inbox))
        if clock is not None and clock != self._clock_written:
            statements.append(
                ("UPDATE meta SET value = ? WHERE key = 'clock'", [clock.isoformat()])
            )
        if not statements:
            return
        con = self._connection()
        single = len(statements) == 1  # one statement is a transaction of its own
        try:
            if not single:
                con.execute("BEGIN TRANSACTION")
            for query, params in statements:
                # a bulk statement reads its columns from ``frame``, registered by name
                # (files are opened with external access off, which also turns off
                # DuckDB's scans of Python variables)
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
                    f"could not commit to the store {self._label()}; nothing of the batch was "
                    f"written: {exc}"
                ) from exc
            raise
        self._in_db -= purged
        self._in_db.update(changed)
        for instance_id in purged:
            self._written.pop(instance_id, None)
        for instance_id, row in changed.items():
            if row[2] in _TERMINAL:  # finished instances seldom change again
                self._written.pop(instance_id, None)
            else:
                self._written[instance_id] = row
        if clock is not None:
            self._clock_written = clock

    def _upsert(self, rows: dict[str, tuple[Any, ...]], purged: set[str]) -> tuple[str, Any]:
        """One statement writing instance rows: an UPDATE of what changed for one instance,
        an INSERT of new ones, else an INSERT OR REPLACE of them all (twice an INSERT's
        cost, for the key lookups)."""
        if len(rows) == 1:
            ((instance_id, row),) = rows.items()
            if instance_id in self._in_db and instance_id not in purged:
                before = self._written.get(instance_id)
                columns = [
                    i
                    for i in range(1, len(INSTANCE_COLUMNS))
                    if before is None or before[i] != row[i]
                ]
                assignments = ", ".join(f"{INSTANCE_COLUMNS[i]} = ?" for i in columns)
                return (
                    f"UPDATE instances SET {assignments} WHERE instance_id = ?",
                    [*(row[i] for i in columns), instance_id],
                )
        in_db = self._in_db
        new = all(i not in in_db or i in purged for i in rows)  # purged rows are deleted first
        insert = "INSERT INTO" if new else "INSERT OR REPLACE INTO"
        if len(rows) <= SMALL:
            return (
                f"{insert} instances VALUES " + ", ".join([_RECORD_PLACEHOLDERS] * len(rows)),
                [value for row in rows.values() for value in row],
            )
        return (
            f"{insert} instances {_INSTANCE_FRAME_SELECT} FROM frame",
            _frame([*INSTANCE_COLUMNS, "ordinal"], list(zip(*rows.values(), strict=True))),
        )

    # ------------------------------------------------------------------ reading
    def _read(self) -> duckdb.DuckDBPyConnection:
        """The connection, with every committed batch written (lock held)."""
        con = self._connection()
        self._flush()
        return con

    def records(self) -> list[InstanceRecord]:
        with self._lock, self._guard():
            rows = self._read().execute(_INSTANCE_SELECT + " ORDER BY ordinal").fetchall()
        return [row_record(row) for row in rows]

    def record(self, instance_id: str) -> InstanceRecord | None:
        with self._lock, self._guard():
            if self._pending.knows(instance_id):
                return self._pending.record(instance_id)
            row = (
                self._read()
                .execute(_INSTANCE_SELECT + " WHERE instance_id = ?", [instance_id])
                .fetchone()
            )
        return row_record(row) if row else None

    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> list[StoredEvent]:
        with self._lock:
            cached = self._recent.get(instance_id)
            if cached is not None:
                self._recent.move_to_end(instance_id)
                return cached[max(start, 0) : None if stop is None else max(stop, 0)]
        query, params = _history_query(_STORED_COLUMNS, instance_id, start, stop)
        with self._lock, self._guard(), gc_paused():
            return _stored_events(self._read().execute(query, params))

    def histories(self, instance_ids: Iterable[str]) -> dict[str, list[StoredEvent]]:
        ids = list(instance_ids)
        out: dict[str, list[StoredEvent]] = {i: [] for i in ids}
        if not ids:
            return out
        with self._lock, self._guard(), gc_paused():
            result = self._read().execute(
                f"SELECT {_STORED_COLUMNS} FROM history "
                "WHERE instance_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY instance_id, seq",
                [ids],
            )
            for stored in _stored_events(result):
                out[stored.instance_id].append(stored)
        return out

    def clock_time(self) -> datetime | None:
        with self._lock:
            return self._clock

    def inboxes(self) -> dict[str, list[HistoryEvent]]:
        with self._lock, self._guard():
            rows = (
                self._read()
                .execute("SELECT key, value FROM meta WHERE starts_with(key, ?)", [INBOX_KEY])
                .fetchall()
            )
        return {key[len(INBOX_KEY) :]: json_events(value) for key, value in rows}

    # ------------------------------------------------------------------ DataFrames and SQL
    def sql(self, query: str, params: Any = None) -> pandas.DataFrame:
        """Run ``query`` (DuckDB SQL) on the store's tables; the result as a DataFrame."""
        import pandas

        with self._lock:
            con = self._read()
            cursor = con.execute(query) if params is None else con.execute(query, params)
            if cursor.description is None:
                return pandas.DataFrame()
            return cursor.df()

    def history_frame(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> pandas.DataFrame:
        query, params = _history_query(", ".join(HISTORY_COLUMNS), instance_id, start, stop)
        with self._lock, self._guard():
            return self._read().execute(query, params).df()

    def instances_frame(
        self, *, statuses: list[str] | None = None, names: list[str] | None = None
    ) -> pandas.DataFrame:
        query = _INSTANCE_SELECT + " WHERE true"
        params: list[Any] = []
        if statuses is not None:
            query += " AND status IN (SELECT unnest(?::VARCHAR[]))"
            params.append(statuses)
        if names is not None:
            query += " AND name IN (SELECT unnest(?::VARCHAR[]))"
            params.append(names)
        with self._lock, self._guard():
            return self._read().execute(query + " ORDER BY ordinal", params).df()

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """A file store closes the file (releasing it for other processes) and reopens it
        on its next use. An in-memory store stays as is."""
        self._close(final=False)

    def _close(self, *, final: bool) -> None:
        with self._lock:
            if self._con is None:
                return
            if self.path is None and not final:
                return  # in memory: what waits is written when (if ever) it is read
            if self.path is not None:
                with contextlib.suppress(Exception):
                    self._flush()
            self._final = final
            con, self._con = self._con, None
            _open_stores.discard(self)
            con.close()
            if self._fd is not None:  # after DuckDB has closed the file and released it
                os.close(self._fd)
                self._fd = None
            if self._snapshot is not None:
                self._snapshot.cleanup()
                self._snapshot = None

    def _label(self) -> str:
        return ":memory:" if self.path is None else repr(str(self.path))

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"DuckDBStore({self._label()}{mode})"


# --------------------------------------------------------------------------- helpers
def _create_schema(con: duckdb.DuckDBPyConnection) -> None:
    from wfkit.core._version import __version__

    con.execute("BEGIN TRANSACTION")
    try:
        for statement in _SCHEMA:
            con.execute(statement)
        con.execute(
            "INSERT INTO schema_version VALUES (?, ?, ?, current_timestamp::TIMESTAMP)",
            [APPLICATION, SCHEMA_VERSION, __version__],
        )
        con.execute("INSERT INTO meta VALUES ('clock', NULL)")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to a store file, with :data:`CONFIG`; DuckDB's refusal as wfkit's."""
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=read_only, config=CONFIG)
    except duckdb.Error as exc:
        raise open_error(path, exc, read_only=read_only) from None


def _probe_write(con: duckdb.DuckDBPyConnection) -> None:
    """Write a row to each table and roll it back: a file whose indexes or tables are
    damaged is refused when it is opened, not at the engine's first write."""
    key = f"wfkit-open-probe-{uuid.uuid4().hex}"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO instances (instance_id, name, status, created_at, last_updated_at, "
            "ordinal) VALUES (?, '', '', TIMESTAMP '1970-01-01', TIMESTAMP '1970-01-01', -1)",
            [key],
        )
        con.execute(
            "INSERT INTO history (instance_id, seq, event_id, kind, ts, wall_ts) "
            "VALUES (?, 0, 0, '', TIMESTAMP '1970-01-01', TIMESTAMP '1970-01-01')",
            [key],
        )
    finally:
        con.execute("ROLLBACK")


def _held_here(key: str, asking: DuckDBStore) -> DuckDBStore | None:
    """Another store of this process with a connection to the file ``key`` itself."""
    for store in list(_open_stores):
        if (
            store is not asking
            and store._con is not None
            and store._snapshot is None
            and store.path is not None
            and str(store.path.resolve()) == key
        ):
            return store
    return None


def _copy_from(fd: int, target: Path) -> None:
    """Copy the whole file open as ``fd`` to ``target`` without opening it again."""
    offset = 0
    with open(target, "wb") as out:
        while chunk := os.pread(fd, 1 << 20, offset):
            out.write(chunk)
            offset += len(chunk)


def _register(con: duckdb.DuckDBPyConnection, name: str, data: Any) -> None:
    complete = getattr(con, "complete", None)  # DuckDB 2 registers only once the last
    if complete is not None:  # result was run to its end (a read may have stopped early)
        complete()
    con.register(name, data)


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path, *, allow_empty: bool = False) -> Any:
    return check_layout(
        con,
        path,
        schema_version=SCHEMA_VERSION,
        application=APPLICATION,
        allow_empty=allow_empty,
    )


def _shadow_views(con: duckdb.DuckDBPyConnection) -> None:
    """wfkit's views as temporary views: they take precedence over the file's own views of
    those names, so reading ``timers`` or ``tasks`` never runs SQL stored in the file."""
    for statement in _SCHEMA:
        if statement.startswith("CREATE VIEW"):
            con.execute(statement.replace("CREATE VIEW", "CREATE OR REPLACE TEMP VIEW", 1))


def _inbox_statements(inbox: dict[str, list[HistoryEvent]]) -> list[tuple[str, Any]]:
    """Replace the held events of the instances in ``inbox`` (rows of the meta table)."""
    keys = sorted(INBOX_KEY + instance_id for instance_id in inbox)
    held = {INBOX_KEY + i: events_json(events) for i, events in inbox.items() if events}
    statements: list[tuple[str, Any]] = [
        ("DELETE FROM meta WHERE key IN (SELECT unnest(?::VARCHAR[]))", [keys])
    ]
    if held:
        statements.append(
            (
                "INSERT INTO meta SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
                [list(held), list(held.values())],
            )
        )
    return statements


def _history_query(
    columns: str, instance_id: str, start: int, stop: int | None
) -> tuple[str, list[Any]]:
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


def _stored_events(result: duckdb.DuckDBPyConnection) -> list[StoredEvent]:
    """The stored events a query of :data:`_STORED_COLUMNS` returns, read by columns
    (half the cost of fetching a tuple per row)."""
    columns = [column.tolist() for column in result.fetchnumpy().values()]
    return [
        StoredEvent(iid, seq, row_event(kind, ts, task, name, payload, failure, fields), wall / 1e6)
        for iid, seq, wall, kind, ts, task, name, payload, failure, fields in zip(
            *columns, strict=True
        )
    ]


def _insert_events(events: list[StoredEvent]) -> tuple[str, Any]:
    """One statement appending the events: a VALUES list when they are few, else a bulk
    scan of their columns."""
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
    return (
        f"INSERT INTO history {_HISTORY_SELECT} FROM frame",
        _frame(list(HISTORY_COLUMNS), list(zip(*rows, strict=True))),
    )


def _frame(names: list[str], columns: list[tuple[Any, ...]]) -> dict[str, Any]:
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


__all__ = ["SCHEMA_VERSION", "DuckDBStore"]
