"""One contract for every history store: each backend passes it by supplying a factory.

The pure in-memory store is also the oracle: random sequences of batches (new instances,
appends, resets, purges, failing batches) must leave every backend holding what it holds.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from wfkit.core._history import (
    EVENT_TYPES,
    OPTIONAL_TIMER_FIRE_AT,
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceCreated,
    ChildWorkflowInstanceFailed,
    EventRaised,
    ExecutionCompleted,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    FailureDetails,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
    WorkflowStarted,
)
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.store import (
    Batch,
    BrowsableStore,
    DuckDBStore,
    HistoryStore,
    MemoryStore,
    StoredEvent,
    history_page,
)

T0 = datetime(2025, 3, 1, 12, 0, 0)
WALL = 1_750_000_000.25

Factory = Callable[[], HistoryStore]


@pytest.fixture(params=["memory", "duckdb-memory", "duckdb-file"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """A factory of empty stores of one backend (a file store gets a fresh file)."""
    counter = iter(range(1_000))
    stores: list[HistoryStore] = []

    def make() -> HistoryStore:
        store: HistoryStore
        if request.param == "memory":
            store = MemoryStore()
        elif request.param == "duckdb-memory":
            store = DuckDBStore()
        else:
            store = DuckDBStore(tmp_path / f"store{next(counter)}.duckdb")
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def record(instance_id: str, **changes: object) -> InstanceRecord:
    values: dict[str, object] = dict(
        instance_id=instance_id,
        name="wf",
        status=WorkflowStatus.RUNNING,
        created_at=T0,
        last_updated_at=T0,
    )
    values.update(changes)
    return InstanceRecord(**values)  # type: ignore[arg-type]


def stored(instance_id: str, events: list[HistoryEvent], start: int = 0) -> list[StoredEvent]:
    return [StoredEvent(instance_id, start + i, e, WALL + i) for i, e in enumerate(events)]


def every_kind() -> list[HistoryEvent]:
    """One or more events of every kind, with payloads, failures and odd values."""
    t = T0
    failure = FailureDetails('it broke: ünïcode "quotes"\n', "ValueError", "Traceback...\n")
    events: list[HistoryEvent] = [
        WorkflowStarted(timestamp=t),
        ExecutionStarted(
            timestamp=t,
            workflow_name="order",
            input='{"amount": 5000, "items": ["a", "b"]}',
            parent_instance_id="parent-1",
            parent_task_id=4,
        ),
        TaskScheduled(
            timestamp=t, task_id=1, activity_name="charge", input="42", task_execution_id="x-1"
        ),
        TaskScheduled(timestamp=t, task_id=2, activity_name="noop", app_id="other-app"),
        TimerCreated(timestamp=t, task_id=3, fire_at=t + timedelta(days=7)),
        TimerCreated(
            timestamp=t,
            task_id=4,
            fire_at=OPTIONAL_TIMER_FIRE_AT,
            origin="external_event",
            origin_name="Approval",
        ),
        ChildWorkflowInstanceCreated(
            timestamp=t, task_id=5, workflow_name="child", instance_id="child-1", input='"in"'
        ),
        WorkflowStarted(timestamp=t + timedelta(seconds=1)),
        TaskCompleted(timestamp=t, task_scheduled_id=1, result='"ok"'),
        TaskCompleted(timestamp=t, task_scheduled_id=2),
        TaskFailed(timestamp=t, task_scheduled_id=2, failure=failure),
        TaskFailed(timestamp=t, task_scheduled_id=2, failure=FailureDetails("m", "E")),
        TimerFired(timestamp=t + timedelta(days=7), timer_id=3, fire_at=t + timedelta(days=7)),
        EventRaised(timestamp=t, event_name="Approval", input='{"ok": true}'),
        EventRaised(timestamp=t, event_name="nothing"),
        ChildWorkflowInstanceCompleted(timestamp=t, task_scheduled_id=5, result="0"),
        ChildWorkflowInstanceFailed(timestamp=t, task_scheduled_id=5, failure=failure),
        ExecutionSuspended(timestamp=t, reason="maintenance"),
        ExecutionResumed(timestamp=t),
        ExecutionTerminated(timestamp=t, output='"stop"', recursive=False),
        ExecutionCompleted(timestamp=t, status="COMPLETED", result='""'),
        ExecutionCompleted(timestamp=t, status="FAILED", failure=failure),
        ExecutionCompleted(timestamp=t, status="TERMINATED"),
    ]
    assert {type(e) for e in events} == set(EVENT_TYPES.values())
    return events


def contents(store: HistoryStore) -> list[tuple[InstanceRecord, list[tuple[int, HistoryEvent]]]]:
    return [(r, [(s.seq, s.event) for s in store.history(r.instance_id)]) for r in store.records()]


# --------------------------------------------------------------------------- round trips
def test_every_event_kind_round_trips(make_store: Factory) -> None:
    store = make_store()
    events = every_kind()
    store.commit(Batch(records={"i": record("i")}, events=stored("i", events)))
    back = store.history("i")
    assert [s.event for s in back] == events
    assert [s.seq for s in back] == list(range(len(events)))
    assert all(s.instance_id == "i" for s in back)
    assert [s.wall_time for s in back] == pytest.approx([WALL + i for i in range(len(events))])


def test_few_events_and_many_round_trip_alike(make_store: Factory) -> None:
    """A small batch and a large one take different write paths; both read back exactly."""
    store = make_store()
    events = every_kind()
    many = events * 20
    store.commit(Batch(records={"few": record("few")}, events=stored("few", events[:3])))
    store.commit(Batch(records={"many": record("many")}, events=stored("many", many)))
    assert [s.event for s in store.history("few")] == events[:3]
    assert [s.event for s in store.history("many")] == many


def test_records_round_trip_with_every_field(make_store: Factory) -> None:
    store = make_store()
    full = record(
        "full",
        name="order",
        status=WorkflowStatus.FAILED,
        created_at=T0,
        last_updated_at=T0 + timedelta(hours=1, microseconds=7),
        input='{"a": 1}',
        output='"out"',
        custom_status='{"step": 3}',
        failure=FailureDetails("boom", "RuntimeError", "trace"),
        parent_instance_id="p",
        parent_task_id=12,
        start_at=T0 + timedelta(days=1),
    )
    bare = record("bare", status=WorkflowStatus.PENDING)
    no_stack = record("no-stack", failure=FailureDetails("m", "E"))
    store.commit(Batch(records={"full": full, "bare": bare, "no-stack": no_stack}))
    assert store.records() == [full, bare, no_stack]
    assert store.record("full") == full
    assert store.record("bare") == bare
    assert store.record("missing") is None


def test_many_records_in_one_batch(make_store: Factory) -> None:
    store = make_store()
    records = {
        f"i{n}": record(f"i{n}", parent_task_id=n if n % 2 else None, start_at=None)
        for n in range(50)
    }
    store.commit(Batch(records=records))
    assert store.records() == list(records.values())
    changed = {
        k: r.__class__(**{**_fields(r), "status": WorkflowStatus.COMPLETED})
        for k, r in records.items()
    }
    store.commit(Batch(records=changed))
    assert store.records() == list(changed.values())


def _fields(r: InstanceRecord) -> dict[str, object]:
    return {name: getattr(r, name) for name in r.__dataclass_fields__}


def test_records_keep_creation_order_when_updated(make_store: Factory) -> None:
    store = make_store()
    store.commit(Batch(records={"a": record("a"), "b": record("b")}))
    store.commit(Batch(records={"c": record("c")}))
    store.commit(Batch(records={"a": record("a", status=WorkflowStatus.COMPLETED)}))
    assert [r.instance_id for r in store.records()] == ["a", "b", "c"]
    assert store.record("a").status is WorkflowStatus.COMPLETED  # type: ignore[union-attr]


def test_an_unchanged_record_committed_again_is_kept(make_store: Factory) -> None:
    store = make_store()
    a = record("a")
    store.commit(Batch(records={"a": a}))
    store.commit(Batch(records={"a": a}, events=stored("a", [WorkflowStarted(timestamp=T0)])))
    assert store.records() == [a]
    assert len(store.history("a")) == 1


# --------------------------------------------------------------------------- ranged reads
def test_ranged_reads_are_slices_by_seq(make_store: Factory) -> None:
    store = make_store()
    events = every_kind()
    store.commit(Batch(records={"i": record("i")}, events=stored("i", events)))
    store.commit(Batch(records={"j": record("j")}, events=stored("j", events[:2])))
    n = len(events)
    for start, stop in [
        (0, None),
        (0, 5),
        (3, 9),
        (5, 5),
        (9, 3),
        (n - 1, None),
        (n, None),
        (0, 10**6),
    ]:
        got = store.history("i", start=start, stop=stop)
        assert [s.seq for s in got] == list(range(n))[start:stop], (start, stop)
        assert [s.event for s in got] == events[start:stop]
    assert store.history("missing") == []
    assert store.history("missing", start=2, stop=4) == []


def test_histories_reads_several_at_once(make_store: Factory) -> None:
    store = make_store()
    events = every_kind()
    store.commit(
        Batch(
            records={"a": record("a"), "b": record("b")},
            events=stored("a", events[:4]) + stored("b", events[4:6]),
        )
    )
    got = store.histories(["b", "a", "none"])
    assert set(got) == {"a", "b", "none"}
    assert [s.event for s in got["a"]] == events[:4]
    assert [s.event for s in got["b"]] == events[4:6]
    assert got["none"] == []
    assert store.histories([]) == {}


# --------------------------------------------------------------------------- resets and purges
def test_a_reset_starts_the_history_over(make_store: Factory) -> None:
    store = make_store()
    events = every_kind()
    store.commit(Batch(records={"i": record("i")}, events=stored("i", events[:5])))
    store.commit(Batch(resets={"i"}, events=stored("i", events[5:7])))
    assert [s.event for s in store.history("i")] == events[5:7]
    assert [s.seq for s in store.history("i")] == [0, 1]
    store.commit(Batch(resets={"i"}))
    assert store.history("i") == []
    store.commit(Batch(events=stored("i", events[:1])))
    assert [s.event for s in store.history("i")] == events[:1]


def test_a_purge_deletes_the_record_and_the_history(make_store: Factory) -> None:
    store = make_store()
    events = every_kind()
    store.commit(
        Batch(
            records={"a": record("a"), "b": record("b"), "c": record("c")},
            events=stored("a", events[:3]) + stored("b", events[:2]) + stored("c", events[:1]),
        )
    )
    store.commit(Batch(purges={"a", "b"}))
    assert [r.instance_id for r in store.records()] == ["c"]
    assert store.record("a") is None
    assert store.history("a") == [] and store.history("b") == []
    assert [s.event for s in store.history("c")] == events[:1]
    # an id can be used again after a purge; it is then the newest instance
    store.commit(Batch(records={"a": record("a", name="again")}, events=stored("a", events[3:4])))
    assert [r.instance_id for r in store.records()] == ["c", "a"]
    assert store.record("a").name == "again"  # type: ignore[union-attr]
    assert [s.event for s in store.history("a")] == events[3:4]


def test_purge_and_recreate_in_one_batch(make_store: Factory) -> None:
    store = make_store()
    events = every_kind()
    store.commit(
        Batch(records={"a": record("a"), "b": record("b")}, events=stored("a", events[:3]))
    )
    store.commit(
        Batch(purges={"a"}, records={"a": record("a", name="new")}, events=stored("a", events[5:6]))
    )
    assert [(r.instance_id, r.name) for r in store.records()] == [("b", "wf"), ("a", "new")]
    assert [s.event for s in store.history("a")] == events[5:6]


# --------------------------------------------------------------------------- atomicity
def test_a_batch_that_fails_midway_changes_nothing(make_store: Factory) -> None:
    store = make_store()
    events = every_kind()
    store.commit(
        Batch(
            records={"a": record("a"), "b": record("b")},
            events=stored("a", events[:3]) + stored("b", events[:2]),
        )
    )
    before = contents(store)
    bad_batches = [
        # a good append to b, then a duplicate seq for a
        Batch(
            records={"a": record("a", status=WorkflowStatus.COMPLETED), "n": record("n")},
            events=stored("b", events[2:4], start=2) + stored("a", events[3:4], start=2),
        ),
        # a gap in a's history
        Batch(events=stored("a", events[3:4], start=4)),
        # a purge and a reset, then an event that does not start a history at 0
        Batch(purges={"b"}, resets={"a"}, events=stored("a", events[:1], start=1)),
        # events of an instance never seen must start at 0
        Batch(records={"z": record("z")}, events=stored("z", events[:1], start=3)),
    ]
    for bad in bad_batches:
        with pytest.raises(ValueError, match="cannot append event"):
            store.commit(bad)
        assert contents(store) == before
    # the store still takes good batches, from where it was
    store.commit(Batch(events=stored("a", events[3:5], start=3)))
    assert [s.seq for s in store.history("a")] == [0, 1, 2, 3, 4]


def test_the_latest_committed_virtual_time_is_kept(make_store: Factory) -> None:
    store = make_store()
    assert store.clock_time() is None
    store.commit(Batch(records={"a": record("a")}, clock_time=T0))
    store.commit(Batch(records={"b": record("b")}, clock_time=T0 + timedelta(days=2)))
    store.commit(Batch(records={"c": record("c")}))  # a batch without a time keeps the last
    assert store.clock_time() == T0 + timedelta(days=2)


# --------------------------------------------------------------------------- the oracle
def random_batches(rng: random.Random, n: int) -> list[Batch]:
    """Batches as the engine writes them: new instances, appends, resets, purges, a few
    batches that must fail (their events do not continue the history)."""
    kinds = every_kind()
    lengths: dict[str, int] = {}
    out = []
    for step in range(n):
        batch = Batch(clock_time=T0 + timedelta(seconds=step))
        saved = dict(lengths)
        known = list(lengths)
        for _ in range(rng.randint(0, 3)):
            if known and rng.random() < 0.15:
                victim = rng.choice(known)
                if rng.random() < 0.5:
                    batch.purges.add(victim)
                    lengths.pop(victim, None)
                else:
                    batch.resets.add(victim)
                    lengths[victim] = 0
        for _ in range(rng.randint(0, 4)):
            if not lengths or rng.random() < 0.3:
                iid = f"i{step}-{rng.randint(0, 9)}"
                if iid in batch.purges:
                    continue
                lengths.setdefault(iid, 0)
            else:
                iid = rng.choice(list(lengths))
            status = rng.choice(list(WorkflowStatus))
            batch.records[iid] = record(iid, status=status, custom_status=str(step))
            count = rng.choice([0, 1, 2, 3, 12])
            start = lengths.get(iid, 0)
            batch.events.extend(stored(iid, rng.sample(kinds, count), start))
            lengths[iid] = start + count
        if rng.random() < 0.1 and batch.events:
            last = batch.events[-1]
            batch.events.append(StoredEvent(last.instance_id, last.seq, last.event, WALL))
            lengths = saved  # the batch is refused whole
        out.append(batch)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_random_batches_leave_what_the_memory_store_leaves(make_store: Factory, seed: int) -> None:
    rng = random.Random(seed)
    store = make_store()
    oracle = MemoryStore()
    for i, batch in enumerate(random_batches(rng, 60)):
        outcomes = []
        for target in (oracle, store):
            try:
                target.commit(batch)
                outcomes.append(None)
            except ValueError as exc:
                outcomes.append(type(exc))
        assert outcomes[0] == outcomes[1], i
        if rng.random() < 0.3:  # read now and then (an in-memory DuckDB store writes then)
            assert contents(store) == contents(oracle), i
    assert contents(store) == contents(oracle)
    assert store.clock_time() == oracle.clock_time()


# --------------------------------------------------------------------------- pages
def test_history_pages_filter_and_count(make_store: Factory) -> None:
    store = make_store()
    events = every_kind()
    store.commit(
        Batch(
            records={"a": record("a"), "b": record("b")},
            events=stored("b", events[:6]) + stored("a", events),
        )
    )
    page = history_page(store, instance_id="a", offset=3, limit=4)
    assert page.total == len(events) and [r.seq for r in page.rows] == [3, 4, 5, 6]
    assert [r.kind for r in page.rows] == [e.kind for e in events[3:7]]
    everything = history_page(store, limit=1000)
    assert [(r.instance_id, r.seq) for r in everything.rows] == [
        *(("a", n) for n in range(len(events))),
        *(("b", n) for n in range(6)),
    ]
    scheduled = history_page(store, kind="TaskScheduled", offset=1, limit=2)
    assert scheduled.total == 4 and [(r.instance_id, r.name) for r in scheduled.rows] == [
        ("a", "noop"),
        ("b", "charge"),
    ]
    named = history_page(store, instance_id="a", name=" APPROV ", limit=10)
    assert [(r.kind, r.name) for r in named.rows] == [
        ("TimerCreated", "Approval"),
        ("EventRaised", "Approval"),
    ]
    failed = history_page(store, instance_id="a", kind="TaskFailed", limit=1).rows[0]
    assert failed.task_id == 2 and failed.payload is None and failed.fields is None
    assert json.loads(failed.failure or "")["error_type"] == "ValueError"
    first = history_page(store, instance_id="a", limit=1).rows[0]
    assert (first.ts, first.wall_ts) == (T0, datetime(2025, 6, 15, 15, 6, 40, 250000))
    assert history_page(store, instance_id="none").total == 0


def test_pages_of_a_store_with_only_the_base_protocol(make_store: Factory) -> None:
    """A store that serves no pages itself is read through the base protocol."""
    backend = make_store()

    class Plain:
        commit = backend.commit
        records = backend.records
        record = backend.record
        history = backend.history
        histories = backend.histories
        clock_time = backend.clock_time
        close = backend.close

    plain = Plain()
    assert isinstance(plain, HistoryStore) and not isinstance(plain, BrowsableStore)
    events = every_kind()
    backend.commit(Batch(records={"a": record("a")}, events=stored("a", events)))
    for store in (plain, backend):
        page = history_page(store, kind="EventRaised", limit=5)
        assert page.total == 2 and [r.name for r in page.rows] == ["Approval", "nothing"]
