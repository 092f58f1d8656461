"""Whether a store was opened for reading only."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from wfkit.store._base import HistoryStore
from wfkit.store._duckdb import DuckDBStore
from wfkit.store._memory import MemoryStore


@runtime_checkable
class _ReadOnlyFlag(Protocol):
    read_only: bool


def is_read_only(store: HistoryStore) -> bool:
    """Whether ``store`` was opened for reading only (a store says so with a ``read_only``
    attribute, as :class:`~wfkit.store.DuckDBStore` does; without one it can be written).

    Asked before each write the engine accepts: wfkit's own stores are answered without a
    protocol check (which costs microseconds)."""
    if isinstance(store, DuckDBStore):
        return store.read_only
    if type(store) is MemoryStore:
        return False
    return isinstance(store, _ReadOnlyFlag) and bool(store.read_only)
