"""DuckDB store: instances and histories as SQL tables, in memory or in a file.

* A file store writes every batch through at once, in its own transaction: the engine
  commits one batch per turn (every instance that was ready at once) before it dispatches
  a side effect, so what a user or an activity sees is on disk.
* An in-memory store has nothing to lose to a crash, so it validates each batch at once
  (a bad batch is refused whole) and writes batches to DuckDB in groups, off the engine's
  path: when SQL or a DataFrame is asked for, and whenever many rows are waiting. Instance
  records and recent histories are answered from memory; every read sees every committed
  batch.

The modules beside this one hold the rest: the tables (``_duckdb_schema``), opening a
file (``_duckdb_connect``, ``_duckdb_file``), the writes (``_duckdb_writes``) and the
reads (``_duckdb_reads``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wfkit.core._errors import StoreCorruptError, StoreError
from wfkit.core._gc import gc_paused
from wfkit.core._history import HistoryEvent
from wfkit.core._state import InstanceRecord
from wfkit.store import _duckdb_reads as reads
from wfkit.store._base import Batch, HistoryPage, IndexRow, Payloads, StoredEvent, check_batch
from wfkit.store._duckdb_connect import Connector
from wfkit.store._duckdb_file import first_line
from wfkit.store._duckdb_schema import SCHEMA_VERSION
from wfkit.store._duckdb_writes import TableWriter
from wfkit.store._pending import PendingWrites
from wfkit.store._recent import RecentHistories

if TYPE_CHECKING:
    import duckdb
    import pandas

#: In-memory stores write their waiting batches once this many rows are waiting (a run of
#: a few hundred thousand events never waits for DuckDB; memory stays bounded beyond).
FLUSH_ROWS = 400_000
#: ... and compress the rows written once this many are uncompressed.
COMPRESS_ROWS = 200_000

# Stores with an open connection, closed when the interpreter exits (a file is
# checkpointed; DuckDB objects still referenced by daemon threads are released).
_open_stores: weakref.WeakSet[DuckDBStore] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for store in list(_open_stores):
        store.close_for_exit()


class DuckDBStore:
    """Instances and histories in DuckDB tables, in memory (default) or in a file.

    Args:
        path: ``":memory:"`` (default) or the path of a database file, created if missing.
        read_only: open an existing file for reading only. If another process has the file
            open for writing, this reads a snapshot of it taken now.

    Query the tables with ``wfr.sql(...)`` (see ``docs/store.md`` for the layout).
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, read_only: bool = False):
        memory = str(path) == ":memory:"
        if memory and read_only:
            raise ValueError("an in-memory DuckDB store cannot be opened read-only")
        self.path: Path | None = None if memory else Path(path).expanduser().absolute()
        self.read_only = read_only
        self._lock = threading.RLock()
        self._connector = Connector(self.path, read_only=read_only)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._pending = PendingWrites()  # accepted, not yet written (in-memory stores)
        self._lengths: dict[str, int] = {}  # history length per instance (committed batches)
        self._order: dict[str, int] = {}  # creation ordinal per instance (committed batches)
        self._next_order = 0
        self._writer = TableWriter()
        self._clock: datetime | None = None
        self._final = False
        self._recent = RecentHistories()
        self._unwritten = 0  # rows written to an in-memory database since it was compressed
        with self._lock:
            self._connection()

    @property
    def writes_through(self) -> bool:
        """Every commit is a durable write of its own (a file store open for writing):
        callers gain by sharing one."""
        return self.path is not None and not self.read_only

    # ------------------------------------------------------------------ opening
    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            if self._final:
                raise StoreError(f"the store {self._label()} was closed as the process exits")
            with self._guard():
                con = self._connector.open()
                try:
                    self._load(con)
                except BaseException:
                    self._connector.close()
                    raise
            self._con = con
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

    def _load(self, con: duckdb.DuckDBPyConnection) -> None:
        """Read what validating and numbering new batches needs."""
        self._pending = PendingWrites()
        self._lengths = reads.read_lengths(con)
        self._order = reads.read_ordinals(con)
        self._next_order = max(self._order.values(), default=-1) + 1
        self._clock = reads.read_clock(con)
        self._writer = TableWriter(self._order, self._clock)

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
            ordinals, next_order = self._ordinals(batch)
            if self.path is not None:
                single = PendingWrites()
                single.add(batch, ordinals)
                self._write(single)
            else:
                self._pending.add(batch, ordinals)
            # the batch is accepted: bring the bookkeeping up to date
            for instance_id in batch.purges:
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
            self._recent.remember(batch)
            if self._pending.rows >= FLUSH_ROWS:
                self._flush()

    @property
    def held_back(self) -> int:
        """Rows accepted and not yet written (an in-memory store writes them in bulk)."""
        return self._pending.rows

    def write_held_back(self) -> None:
        """Write the rows held back now: the engine does it once it is quiet, so that
        the next run, or the next read, does not pay for them."""
        with self._lock:
            self._flush()

    def _ordinals(self, batch: Batch) -> tuple[dict[str, int], int]:
        """The creation ordinal of each instance ``batch`` records (a new one for a new or
        purged instance), and the next ordinal after them."""
        ordinals: dict[str, int] = {}
        next_order = self._next_order
        for instance_id in batch.records:
            ordinal = None if instance_id in batch.purges else self._order.get(instance_id)
            if ordinal is None:
                ordinal = next_order
                next_order += 1
            ordinals[instance_id] = ordinal
        return ordinals, next_order

    def _flush(self) -> None:
        """Write the batches an in-memory store holds back (lock held)."""
        if self._pending:
            rows = self._pending.rows
            self._write(self._pending)
            self._pending = PendingWrites()
            self._unwritten += rows
            if self._unwritten >= COMPRESS_ROWS:
                self._compress()

    def _compress(self) -> None:
        """Compress what was written since the last time (an in-memory database holds
        new rows uncompressed until it is checkpointed)."""
        self._unwritten = 0
        with gc_paused():
            self._connection().execute("CHECKPOINT")

    def _write(self, pending: PendingWrites) -> None:
        """Write ``pending`` in one transaction; on error, roll back."""
        with gc_paused():  # a bulk write builds a row per event, all kept until written
            self._writer.write(self._connection(), pending, self._label())

    # ------------------------------------------------------------------ reading
    def _read(self) -> duckdb.DuckDBPyConnection:
        """The connection, with every committed batch written (lock held)."""
        con = self._connection()
        self._flush()
        return con

    def records(self) -> list[InstanceRecord]:
        with self._lock, self._guard():
            return reads.read_records(self._read())

    def record(self, instance_id: str) -> InstanceRecord | None:
        with self._lock, self._guard():
            if self._pending.knows(instance_id):
                return self._pending.record(instance_id)
            return reads.read_record(self._read(), instance_id)

    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> list[StoredEvent]:
        with self._lock:
            cached = self._recent.get(instance_id, start, stop)
            if cached is not None:
                return cached
        with self._lock, self._guard(), gc_paused():
            return reads.read_history(self._read(), instance_id, start, stop)

    def histories(self, instance_ids: Iterable[str]) -> dict[str, list[StoredEvent]]:
        ids = list(instance_ids)
        with self._lock, self._guard(), gc_paused():
            # histories the held-back writes leave alone (idle instances that replay) are
            # read as the tables hold them: those writes wait for a bigger, cheaper one
            con = self._read() if self._pending.touches(ids) else self._connection()
            return reads.read_histories(con, ids)

    def clock_time(self) -> datetime | None:
        with self._lock:
            return self._clock

    def inboxes(self) -> dict[str, list[HistoryEvent]]:
        with self._lock, self._guard():
            return reads.read_inboxes(self._read())

    # ------------------------------------------------------------------ pages and indexes
    def history_page(
        self,
        *,
        instance_id: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        offset: int = 0,
        limit: int = 25,
    ) -> HistoryPage:
        with self._lock, self._guard():
            return reads.history_page(
                self._read(),
                instance_id=instance_id,
                kind=kind,
                name=name,
                offset=offset,
                limit=limit,
            )

    def history_index(self, instance_id: str, start: int = 0) -> list[IndexRow]:
        with self._lock, self._guard(), gc_paused():
            return reads.history_index(self._read(), instance_id, start)

    def history_payloads(self, instance_id: str, seqs: Iterable[int]) -> Payloads:
        with self._lock, self._guard():
            return reads.history_payloads(self._read(), instance_id, seqs)

    # ------------------------------------------------------------------ DataFrames and SQL
    def sql(
        self, query: str, params: Sequence[object] | Mapping[str, object] | None = None
    ) -> pandas.DataFrame:
        """Run ``query`` (DuckDB SQL) on the store's tables; the result as a DataFrame."""
        import pandas

        with self._lock:
            con = self._read()
            with self._connector.all_threads():
                cursor = con.execute(query) if params is None else con.execute(query, params)
                if cursor.description is None:
                    return pandas.DataFrame()
                return cursor.df()

    def history_frame(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> pandas.DataFrame:
        with self._lock, self._guard():
            return reads.history_frame(self._read(), instance_id, start, stop)

    def instances_frame(
        self, *, statuses: Sequence[str] | None = None, names: Sequence[str] | None = None
    ) -> pandas.DataFrame:
        with self._lock, self._guard():
            return reads.instances_frame(self._read(), statuses, names)

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """A file store closes the file (releasing it for other processes) and reopens it
        on its next use. An in-memory store stays as is."""
        self._close(final=False)

    def close_for_exit(self) -> None:
        """Close for good, as the interpreter exits (a file store writes what waits)."""
        self._close(final=True)

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
            self._con = None
            _open_stores.discard(self)
            self._connector.close()

    def _label(self) -> str:
        return self._connector.label

    def __repr__(self) -> str:
        return repr(self._connector)


__all__ = ["SCHEMA_VERSION", "DuckDBStore"]
