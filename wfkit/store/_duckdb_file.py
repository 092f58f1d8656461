"""Opening a DuckDB store file safely: what a file is, why DuckDB refused it, and whether
its tables are wfkit's own.

A store file may come from anywhere (a colleague, a bug report), so it is treated as
untrusted input:

* Connections to files run with external access and extension autoloading off
  (:data:`CONFIG`): SQL stored in the file cannot read or write other files or load code.
* wfkit's tables must be base tables with exactly the layout this version creates (no
  views, no extra or missing columns, no other types or defaults), and the file may hold
  no macros; wfkit's views are recreated as temporary views, which take precedence over
  whatever views the file holds under those names.
* DuckDB's refusals are classified from facts about the file (its headers, the operating
  system's locks on it) and the exception's type, never from the words of its message:
  :class:`StoreLockedError`, :class:`StoreCorruptError`, :class:`StoreVersionError` or
  :class:`StoreFormatError`.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfkit.core._errors import (
    StoreCorruptError,
    StoreError,
    StoreFormatError,
    StoreLockedError,
    StoreVersionError,
)
from wfkit.store._duckdb_schema import APPLICATION, SCHEMA_VERSION, create_schema

if TYPE_CHECKING:
    import duckdb

#: DuckDB settings of every connection to a store file.
CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}
#: wfkit's tables, which must be exactly as :func:`expected_layout` has them.
TABLES = ("schema_version", "meta", "instances", "history")

_BLOCK = 4096  # DuckDB's file starts with a main header and two database headers
_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Header:
    """What the first blocks of a file say about it."""

    size: int
    duckdb: bool  # the magic bytes are there
    intact: bool  # the main header's checksum matches
    version: int | None  # storage version number in the main header
    expected_size: int | None  # bytes the active database header accounts for

    @property
    def truncated(self) -> bool:
        return self.expected_size is not None and self.size < self.expected_size


def _checksum(block: bytes) -> int:
    """DuckDB's block checksum (8-byte words multiplied by a constant, xor-ed)."""
    result = 5381
    for (word,) in struct.iter_unpack("<Q", block[: len(block) // 8 * 8]):
        result ^= (word * 0xBF58476D1CE4E5B9) & _MASK
    return result


def read_header(path: Path) -> Header:
    with open(path, "rb") as f:
        head = f.read(3 * _BLOCK)
    size = path.stat().st_size
    if len(head) < 12 or head[8:12] != b"DUCK":
        return Header(size, False, False, None, None)
    version = struct.unpack_from("<Q", head, 12)[0] if len(head) >= 20 else None
    intact = len(head) >= _BLOCK and struct.unpack_from("<Q", head)[0] == _checksum(head[8:_BLOCK])
    expected = None
    if len(head) == 3 * _BLOCK:
        # the database header with the higher iteration is the active one
        headers = [struct.unpack_from("<6Q", head, offset) for offset in (_BLOCK, 2 * _BLOCK)]
        _sum, _iteration, _meta, _free, blocks, block_size = max(headers, key=lambda h: h[1])
        if blocks < 2**32 and block_size < 2**32:
            expected = 3 * _BLOCK + blocks * block_size
    return Header(size, True, intact, version, expected)


def check_is_duckdb(path: Path) -> None:
    """Refuse a file that is not a DuckDB database before DuckDB opens it."""
    header = read_header(path)
    if not header.duckdb:
        raise StoreFormatError(
            f"{str(path)!r} is not a wfkit store (not a DuckDB database file); it was left "
            "untouched. Pass the path of a wfkit store, or a new path to create one."
        )
    if header.size < 3 * _BLOCK:
        raise StoreCorruptError(
            f"{str(path)!r} is a damaged DuckDB file (truncated to {header.size:,} bytes, "
            "shorter than its headers); it was left untouched. Restore it from a copy."
        )


def lock_holder(path: Path, *, write: bool) -> int | None:
    """The process id of another process holding a lock on ``path`` that conflicts with
    reading (``write=False``) or writing it, as the operating system reports it; None
    when there is none or the platform cannot tell."""
    try:
        import fcntl
    except ImportError:  # Windows
        return None
    lock_type = fcntl.F_WRLCK if write else fcntl.F_RDLCK
    if sys.platform.startswith("linux"):
        layout, query = "hhqqi4x", (lock_type, os.SEEK_SET, 0, 0, 0)
    else:  # the BSDs and macOS put the offsets first
        layout, query = "qqihh", (0, 0, 0, lock_type, os.SEEK_SET)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(layout, *query))
    except OSError:
        return None
    finally:
        os.close(fd)
    fields = struct.unpack(layout, answer)
    kind, pid = (fields[0], fields[4]) if layout.startswith("hh") else (fields[3], fields[2])
    return pid if kind != fcntl.F_UNLCK and pid != os.getpid() else None


@cache
def _own_storage_version() -> int | None:
    """The storage version number this DuckDB writes in a new file's header."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="wfkit-probe-") as folder:
        path = Path(folder) / "probe.duckdb"
        duckdb.connect(str(path), config=CONFIG).close()
        return read_header(path).version


def open_error(
    path: Path, exc: Exception, *, read_only: bool, shown: Path | None = None
) -> StoreError:
    """The wfkit error for DuckDB's refusal ``exc`` to open ``path`` (named ``shown`` in
    the message when it is a copy). Call it only while this process has no connection to
    the file: reading the file's header or locks closes a descriptor of it, which releases
    the process's own locks on it."""
    import duckdb

    where = repr(str(shown or path))
    if isinstance(exc, duckdb.ConnectionException):  # this process has it open otherwise
        return StoreLockedError(
            f"the wfkit store {where} is already open in this process with other settings "
            "(another DuckDB connection to it, e.g. your own duckdb.connect); close that "
            "connection first, or open the store read-only."
        )
    holder = lock_holder(path, write=not read_only) if isinstance(exc, duckdb.IOException) else None
    if holder is not None:
        return StoreLockedError(
            f"the wfkit store {where} is open for writing in another process (PID {holder}); "
            "only one process can write it at a time. To read it from here, open it "
            f"read-only (a snapshot as of now): WorkflowRuntime(store=DuckDBStore({where}, "
            "read_only=True)), then wfr.sql(...), wfr.instances(), wfr.history(id). To run "
            "its instances here, stop the other runtime first (wfr.shutdown() closes the file)."
        )
    detail = first_line(exc)
    try:
        header = read_header(path)
    except OSError as error:
        return StoreError(f"cannot read the wfkit store {where}: {error}")
    if not header.duckdb:
        return StoreFormatError(
            f"{where} is not a wfkit store (not a DuckDB database file); it was left untouched."
        )
    if not header.intact:
        return StoreCorruptError(
            f"{where} is a damaged DuckDB file (its header's checksum does not match); it was "
            f"left untouched. Restore it from a copy. DuckDB: {detail}"
        )
    own = _own_storage_version()
    if isinstance(exc, duckdb.IOException) and header.version != own:
        return StoreVersionError(
            f"{where} was written in DuckDB storage format {header.version}, which this DuckDB "
            f"(format {own}, duckdb {duckdb.__version__}) cannot read; it was left untouched. "
            "Open it with the DuckDB version that wrote it (or a newer one)."
        )
    if header.truncated:
        return StoreCorruptError(
            f"{where} is a damaged DuckDB file (truncated: {header.size:,} bytes of "
            f"{header.expected_size:,}); it was left untouched. Restore it from a copy."
        )
    return StoreCorruptError(
        f"{where} is a damaged DuckDB file that DuckDB cannot read; it was left untouched. "
        f"Restore it from a copy. DuckDB: {detail}"
    )


def first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


# --------------------------------------------------------------------------- the layout
@cache
def expected_layout() -> dict[str, str]:
    """The definition (DuckDB's SQL) of each of wfkit's tables, as this version makes them."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        create_schema(con)
        return dict(
            con.execute(
                "SELECT table_name, sql FROM duckdb_tables() WHERE table_name IN "
                "(SELECT unnest(?::VARCHAR[]))",
                [list(TABLES)],
            ).fetchall()
        )
    finally:
        con.close()


def _objects(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], set[str], list[str]]:
    """The file's tables (name to SQL), views and macros."""
    tables = dict(
        con.execute(
            "SELECT table_name, sql FROM duckdb_tables() "
            "WHERE database_name = current_database() AND NOT temporary"
        ).fetchall()
    )
    views = {
        name
        for (name,) in con.execute(
            "SELECT view_name FROM duckdb_views() "
            "WHERE database_name = current_database() AND NOT internal AND NOT temporary"
        ).fetchall()
    }
    macros = [
        name
        for (name,) in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() "
            "WHERE database_name = current_database() AND NOT internal"
        ).fetchall()
    ]
    return tables, views, sorted(macros)


def check_layout(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    schema_version: int,
    application: str,
    allow_empty: bool = False,
) -> int | None:
    """The file's store schema version, after checking that wfkit's tables are its own;
    raises :class:`StoreFormatError` (or :class:`StoreVersionError`) otherwise. With
    ``allow_empty``, a database with nothing in it gives None."""
    where = repr(str(path))
    tables, views, macros = _objects(con)
    if not tables and not views and not macros and allow_empty:
        return None
    missing = [t for t in TABLES if t not in tables and t not in views]
    if missing:
        found = ", ".join(sorted({*tables, *views})[:5]) or "none"
        raise StoreFormatError(
            f"{where} is a DuckDB database but not a wfkit store (no "
            f"{', '.join(missing)} table; its tables: {found}); it was left untouched. "
            "Pass the path of a wfkit store, or a new path to create one."
        )
    posing = [t for t in TABLES if t in views]
    if posing:
        raise StoreFormatError(
            f"{where} is not a wfkit store: {', '.join(posing)} "
            f"{'is a view' if len(posing) == 1 else 'are views'}, not wfkit's tables (a view "
            "runs SQL stored in the file); it was left untouched and nothing of it was run."
        )
    if macros:
        raise StoreFormatError(
            f"{where} is not a plain wfkit store: it defines SQL macros "
            f"({', '.join(macros[:5])}), which wfkit never creates; it was left untouched "
            "and nothing of it was run."
        )
    version = _schema_version(con, application)
    if version is None:
        raise StoreFormatError(
            f"{where} has a schema_version table that does not name wfkit; it is not a "
            "wfkit store and was left untouched."
        )
    if version > schema_version:
        raise StoreVersionError(
            f"{where} was written by a newer wfkit (store schema version {version}; this "
            f"wfkit reads up to version {schema_version}); it was left untouched. Upgrade wfkit "
            "to open it."
        )
    expected = expected_layout()
    changed = [t for t in TABLES if tables[t] != expected[t]]
    if changed:
        raise StoreFormatError(
            f"{where} is not a wfkit store of schema version {version}: the layout of "
            f"{', '.join(changed)} differs from wfkit's (columns, types, defaults or "
            f"constraints), e.g. {_one_line(tables[changed[0]])}; it was left untouched."
        )
    return version


def check_schema(
    con: duckdb.DuckDBPyConnection, path: Path, *, allow_empty: bool = False
) -> int | None:
    """:func:`check_layout` against this version's schema."""
    return check_layout(
        con,
        path,
        schema_version=SCHEMA_VERSION,
        application=APPLICATION,
        allow_empty=allow_empty,
    )


def _schema_version(con: duckdb.DuckDBPyConnection, application: str) -> Any:
    import duckdb

    columns = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND table_name = 'schema_version'"
        ).fetchall()
    ]
    if "application" not in columns or "version" not in columns:
        return None
    try:
        row = con.execute(
            "SELECT max(TRY_CAST(version AS INTEGER)) FROM schema_version WHERE application = ?",
            [application],
        ).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def _one_line(sql: str) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= 160 else text[:157] + "..."
