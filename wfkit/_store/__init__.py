"""History stores: one interface, several backends, one contract test suite."""

from ._base import Batch, HistoryStore, StoredEvent
from ._memory import MemoryStore

__all__ = ["Batch", "HistoryStore", "MemoryStore", "StoredEvent"]
