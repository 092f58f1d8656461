"""Every backend keeps the store contract (``wfkit.store.contract``); the contract catches
stores that break it.

The pure in-memory store is also the contract's oracle: random sequences of batches (new
instances, appends, resets, purges, failing batches) must leave every backend holding
what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from wfkit.core._state import InstanceRecord
from wfkit.store import (
    Batch,
    BrowsableStore,
    DuckDBStore,
    HistoryStore,
    MemoryStore,
    QueryableStore,
    StoredEvent,
    history_page,
    is_read_only,
)
from wfkit.store.contract import (
    HISTORY_STORE_CHECKS,
    QUERYABLE_STORE_CHECKS,
    Check,
    StoreContractError,
    check_a_batch_that_fails_midway_changes_nothing,
    check_records_keep_creation_order_when_updated,
    check_store,
    check_the_latest_committed_virtual_time_is_kept,
    checks_for,
)
from wfkit.store.contract._support import every_kind, record, stored

Factory = Callable[[], HistoryStore]

BACKENDS: dict[str, type] = {
    "memory": MemoryStore,
    "duckdb-memory": DuckDBStore,
    "duckdb-file": DuckDBStore,
}
CASES = [(name, check) for name, cls in BACKENDS.items() for check in checks_for(cls)]


def factory(backend: str, folder: Path) -> Factory:
    """New, empty stores of one backend (a file store: a new file each)."""
    counter = iter(range(1_000_000))
    if backend == "memory":
        return MemoryStore
    if backend == "duckdb-memory":
        return DuckDBStore
    return lambda: DuckDBStore(folder / f"store{next(counter)}.duckdb")


@pytest.mark.parametrize(
    ("backend", "check"), CASES, ids=[f"{name}-{check.__name__[6:]}" for name, check in CASES]
)
def test_backend_keeps_the_contract(backend: str, check: Check, tmp_path: Path) -> None:
    check(factory(backend, tmp_path))


def test_each_backend_is_checked_as_what_it_is() -> None:
    assert checks_for(MemoryStore) == HISTORY_STORE_CHECKS
    assert checks_for(DuckDBStore) == HISTORY_STORE_CHECKS + QUERYABLE_STORE_CHECKS
    assert isinstance(MemoryStore(), BrowsableStore)
    assert not isinstance(MemoryStore(), QueryableStore)
    assert isinstance(DuckDBStore(), QueryableStore)
    with pytest.raises(TypeError, match="HistoryStore"):
        checks_for(dict)


# --------------------------------------------------------------------------- stores of one's own
class ForwardingStore:
    """A store of one's own with only the base protocol, kept in a MemoryStore."""

    def __init__(self) -> None:
        self.inner = MemoryStore()

    def commit(self, batch: Batch) -> None:
        self.inner.commit(batch)

    def records(self) -> list[InstanceRecord]:
        return self.inner.records()

    def record(self, instance_id: str) -> InstanceRecord | None:
        return self.inner.record(instance_id)

    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> list[StoredEvent]:
        return self.inner.history(instance_id, start=start, stop=stop)

    def histories(self, instance_ids: object) -> dict[str, list[StoredEvent]]:
        return self.inner.histories(instance_ids)  # type: ignore[arg-type]

    def clock_time(self) -> datetime | None:
        return self.inner.clock_time()

    def close(self) -> None:
        pass


def test_a_store_of_ones_own_keeps_the_contract_with_the_base_protocol() -> None:
    assert isinstance(ForwardingStore(), HistoryStore)
    assert not isinstance(ForwardingStore(), BrowsableStore)
    check_store(ForwardingStore)
    store = ForwardingStore()
    store.commit(Batch(records={"a": record("a")}, events=stored("a", every_kind())))
    page = history_page(store, kind="EventRaised", limit=5)
    assert page.total == 2 and [r.name for r in page.rows] == ["Approval", "nothing"]


class ForgetsOrder(ForwardingStore):
    def records(self) -> list[InstanceRecord]:
        return sorted(self.inner.records(), key=lambda r: r.instance_id, reverse=True)


class HalfCommits(ForwardingStore):
    """Applies a batch's records even when its events are refused."""

    def commit(self, batch: Batch) -> None:
        self.inner.commit(Batch(records=batch.records, clock_time=batch.clock_time))
        self.inner.commit(Batch(events=batch.events, resets=batch.resets, purges=batch.purges))


class ShiftsTheClock(ForwardingStore):
    def clock_time(self) -> datetime | None:
        return None


@pytest.mark.parametrize(
    ("broken", "check", "message"),
    [
        (ForgetsOrder, check_records_keep_creation_order_when_updated, "the order"),
        (HalfCommits, check_a_batch_that_fails_midway_changes_nothing, "after bad batch 0"),
        (ShiftsTheClock, check_the_latest_committed_virtual_time_is_kept, "clock_time"),
    ],
)
def test_the_contract_catches_a_broken_store(broken: type, check: Check, message: str) -> None:
    with pytest.raises(StoreContractError, match=message):
        check(broken)
    with pytest.raises(StoreContractError):
        check_store(broken)


def test_the_checks_close_the_stores_they_make(tmp_path: Path) -> None:
    made: list[DuckDBStore] = []

    def make() -> DuckDBStore:
        made.append(DuckDBStore(tmp_path / f"s{len(made)}.duckdb"))
        return made[-1]

    HISTORY_STORE_CHECKS[0](make)
    assert made and all(not _is_open(s) for s in made)


def _is_open(store: DuckDBStore) -> bool:
    # a closed file store releases its file: another store can open it for writing
    assert store.path is not None
    try:
        DuckDBStore(store.path).close()
    except Exception:
        return True
    return False


def test_a_store_says_whether_it_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "wf.duckdb"
    DuckDBStore(path).close()
    reader = DuckDBStore(path, read_only=True)
    assert is_read_only(reader) and not is_read_only(DuckDBStore(tmp_path / "other.duckdb"))
    assert not is_read_only(MemoryStore()) and not is_read_only(ForwardingStore())

    class Archive(ForwardingStore):
        read_only = True

    assert is_read_only(Archive())
    reader.close()
