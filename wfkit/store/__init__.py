"""History stores: one interface, several backends, one contract test suite."""

from wfkit.store._base import Batch, HistoryStore, StoredEvent
from wfkit.store._duckdb import DuckDBStore
from wfkit.store._memory import MemoryStore

__all__ = ["Batch", "DuckDBStore", "HistoryStore", "MemoryStore", "StoredEvent"]
