"""The DuckDB connection of one store: a new in-memory database, or a store file opened
for writing (one writer per file in this process), read-only, or as a snapshot.

Only one process may have a store file open for writing. Opening it read-only while
another process writes reads a snapshot (a copy of the file taken when it is opened).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from wfkit.core._errors import StoreError, StoreLockedError
from wfkit.store._duckdb_file import CONFIG, check_is_duckdb, check_schema, open_error
from wfkit.store._duckdb_schema import create_schema, probe_write, shadow_views

if TYPE_CHECKING:
    import duckdb

# Files open for writing in this process (a second writer on one file would corrupt it).
_writers: weakref.WeakValueDictionary[str, Connector] = weakref.WeakValueDictionary()
_writers_lock = threading.Lock()
# Connectors with an open connection (a reader of a file this process writes reads it
# through the writer's descriptor).
_open: weakref.WeakSet[Connector] = weakref.WeakSet()


#: The catalog an in-memory store's tables are in (the connection's default one).
MEMORY_CATALOG = "wfkit"


class Connector:
    """Opens and closes the connection of one :class:`~wfkit.store.DuckDBStore`."""

    def __init__(self, path: Path | None, *, read_only: bool):
        self.path = path
        self.read_only = read_only
        self.con: duckdb.DuckDBPyConnection | None = None
        #: The folder holding the copy a snapshot reads (None: the file itself is read).
        self.snapshot: tempfile.TemporaryDirectory[str] | None = None
        #: A descriptor of the file, kept open while DuckDB has it open: this process
        #: reads the file through it (a snapshot) instead of opening and closing the file,
        #: as closing any descriptor of a file releases all of the process's locks on it,
        #: DuckDB's included.
        self.fd: int | None = None

    @contextlib.contextmanager
    def all_threads(self) -> Iterator[None]:
        """Run a query with every core (a writer's connection runs on one thread)."""
        con = self.con
        if con is None or self.path is None or self.read_only:
            yield
            return
        con.execute(f"SET threads = {os.cpu_count() or 1}")
        try:
            yield
        finally:
            con.execute("SET threads = 1")

    @property
    def label(self) -> str:
        return ":memory:" if self.path is None else repr(str(self.path))

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"DuckDBStore({self.label}{mode})"

    def open(self) -> duckdb.DuckDBPyConnection:
        """The connection, opened now (it must not be open)."""
        import duckdb

        if self.path is None:
            con = duckdb.connect(":memory:")
            # an in-memory database of its own that compresses its tables when checkpointed
            # (the default one never does): a million instances' rows take a third
            con.execute(f"ATTACH ':memory:' AS {MEMORY_CATALOG} (COMPRESS)")
            con.execute(f"USE {MEMORY_CATALOG}")
            create_schema(con)
        elif self.read_only:
            con = self._open_for_reading(self.path)
        else:
            con = self._open_for_writing(self.path)
        self.con = con
        _open.add(self)
        return con

    def close(self) -> None:
        """Close the connection, then the file's descriptor and any snapshot."""
        con, self.con = self.con, None
        _open.discard(self)
        if con is not None:
            con.close()
        if self.fd is not None:  # after DuckDB has closed the file and released it
            os.close(self.fd)
            self.fd = None
        if self.snapshot is not None:
            self.snapshot.cleanup()
            self.snapshot = None

    # ------------------------------------------------------------------ reading
    def _open_for_reading(self, path: Path) -> duckdb.DuckDBPyConnection:
        here = _held_here(str(path.resolve()), self)
        if here is not None and here.fd is not None and not here.read_only:
            return _checked(self._open_snapshot(path, fd=here.fd), path)
        if here is not None:  # DuckDB shares the other read-only connection's database
            return _checked(connect(path, read_only=True), path)
        if not path.exists():
            raise FileNotFoundError(f"no wfkit store at {str(path)!r} to open read-only")
        check_is_duckdb(path)
        try:
            con = connect(path, read_only=True)
        except StoreLockedError:
            con = self._open_snapshot(path)
        return _checked(con, path)

    def _open_snapshot(self, path: Path, *, fd: int | None = None) -> duckdb.DuckDBPyConnection:
        """Copy a file another process is writing (with its write-ahead log) and open the
        copy. The copy is retried until the main file did not change while it was taken.
        A file this process writes is read through its writer's descriptor ``fd``."""
        import duckdb

        self.snapshot = tempfile.TemporaryDirectory(prefix="wfkit-snapshot-")
        copy = Path(self.snapshot.name) / path.name
        last: Exception | None = None
        for attempt in range(50):
            before = path.stat() if fd is None else os.fstat(fd)
            _copy_with_log(path, copy, fd)
            after = path.stat() if fd is None else os.fstat(fd)
            if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size):
                time.sleep(0.01)
                continue
            try:
                return duckdb.connect(str(copy), config=CONFIG)
            except duckdb.Error as exc:
                if attempt >= 2:  # the file holds still and its copy cannot be read
                    raise open_error(copy, exc, read_only=True, shown=path) from None
                last = exc
                time.sleep(0.01)
        raise StoreError(
            f"could not take a consistent snapshot of {str(path)!r} while another process "
            f"writes it ({last or 'the file kept changing'}); try again, or stop the writer"
        )

    # ------------------------------------------------------------------ writing
    def _open_for_writing(self, path: Path) -> duckdb.DuckDBPyConnection:
        key = str(path.resolve())
        here = _held_here(key, self)
        if here is not None and here.read_only:
            raise StoreLockedError(
                f"the wfkit store {str(path)!r} is open read-only in this process ({here!r}); "
                "close it first (wfr.shutdown(), or store.close()) to open it for writing."
            )
        with _writers_lock:
            other = _writers.get(key)
            if other is not None and other is not self and other.con is not None:
                raise StoreLockedError(
                    f"the wfkit store {str(path)!r} is already open for writing in this process "
                    f"({other!r}). Use that store (or its runtime), or close it first "
                    "(wfr.shutdown() closes the store of a runtime). To read it alongside, "
                    f"open it read-only: WorkflowRuntime(store=DuckDBStore({str(path)!r}, "
                    "read_only=True))."
                )
            con = self._open_file(path)
            _writers[key] = self
        return con

    def _open_file(self, path: Path) -> duckdb.DuckDBPyConnection:
        """Create the file, or open and check it, for writing."""
        if path.exists() and path.stat().st_size == 0:
            path.unlink()  # an empty file (a fresh temporary file): DuckDB starts it anew
        fresh = not path.exists()
        if not fresh:
            check_is_duckdb(path)
            fresh = _inspect(path) is None
        con = connect(path, read_only=False)
        try:
            # a writer's statements are small (a turn's commit); DuckDB's thread pool costs
            # them more than it gives (a tenth of a commit); queries get it back (sql())
            con.execute("SET threads = 1")
            if fresh:
                create_schema(con)
            else:
                check_schema(con, path)
                probe_write(con)
            shadow_views(con)
            self.fd = os.open(path, os.O_RDONLY)
        except BaseException:
            con.close()
            raise
        return con


def connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to a store file, with :data:`CONFIG`; DuckDB's refusal as wfkit's."""
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=read_only, config=CONFIG)
    except duckdb.Error as exc:
        raise open_error(path, exc, read_only=read_only) from None


def _inspect(path: Path) -> int | None:
    """The schema version of an existing file (None: an empty database), read without
    writing to it; raises if it is locked or not a wfkit store."""
    con = connect(path, read_only=True)
    try:
        return check_schema(con, path, allow_empty=True)
    finally:
        con.close()


def _checked(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyConnection:
    """``con`` once its file is known to be a wfkit store (else closed, and raises)."""
    try:
        check_schema(con, path)
        shadow_views(con)
    except BaseException:
        con.close()
        raise
    return con


def _held_here(key: str, asking: Connector) -> Connector | None:
    """Another connector of this process with a connection to the file ``key`` itself."""
    for connector in list(_open):
        if (
            connector is not asking
            and connector.con is not None
            and connector.snapshot is None
            and connector.path is not None
            and str(connector.path.resolve()) == key
        ):
            return connector
    return None


def _copy_with_log(path: Path, copy: Path, fd: int | None) -> None:
    """Copy the file (through ``fd`` if given) and its write-ahead log, if any."""
    if fd is None:
        shutil.copyfile(path, copy)
    else:
        _copy_from(fd, copy)
    copy_wal = Path(str(copy) + ".wal")
    with contextlib.suppress(FileNotFoundError):
        copy_wal.unlink()
    with contextlib.suppress(FileNotFoundError):
        shutil.copyfile(Path(str(path) + ".wal"), copy_wal)


def _copy_from(fd: int, target: Path) -> None:
    """Copy the whole file open as ``fd`` to ``target`` without opening it again."""
    offset = 0
    with open(target, "wb") as out:
        while chunk := os.pread(fd, 1 << 20, offset):
            out.write(chunk)
            offset += len(chunk)
