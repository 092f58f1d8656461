"""History stores: one interface, several backends, one contract test suite."""

from ._base import Batch, HistoryStore, StoredEvent
from ._duckdb import DuckDBStore
from ._memory import MemoryStore

__all__ = ["Batch", "DuckDBStore", "HistoryStore", "MemoryStore", "StoredEvent"]
