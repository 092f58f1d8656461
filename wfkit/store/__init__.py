"""History stores: the protocols (``HistoryStore``, extended by ``BrowsableStore`` and
``QueryableStore``), two backends (``MemoryStore``, ``DuckDBStore``), the reads every
store answers (``history_page``, ``history_frame``, ``instances_frame``) and, in
``wfkit.store.contract``, the checks a store must pass."""

from wfkit.store._base import (
    Batch,
    BrowsableStore,
    HistoryPage,
    HistoryRow,
    HistoryStore,
    InboxStore,
    IndexRow,
    Payloads,
    QueryableStore,
    StoredEvent,
)
from wfkit.store._duckdb import DuckDBStore
from wfkit.store._memory import MemoryStore
from wfkit.store._pages import history_frame, history_page, history_row, instances_frame
from wfkit.store._read_only import is_read_only

__all__ = [
    "Batch",
    "BrowsableStore",
    "DuckDBStore",
    "HistoryPage",
    "HistoryRow",
    "HistoryStore",
    "InboxStore",
    "IndexRow",
    "MemoryStore",
    "Payloads",
    "QueryableStore",
    "StoredEvent",
    "history_frame",
    "history_page",
    "history_row",
    "instances_frame",
    "is_read_only",
]
