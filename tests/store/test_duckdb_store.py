"""The DuckDB store beyond the contract: files, faults, SQL views, the runtime's queries."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from support import WAIT, complete, output

import wfkit as wf
from wfkit.core._history import WorkflowStarted
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.store import Batch, DuckDBStore, MemoryStore, StoredEvent, _duckdb_writes
from wfkit.store import _duckdb as duckdb_store

T0 = datetime(2025, 3, 1)


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


def events(instance_id: str, n: int, start: int = 0) -> list[StoredEvent]:
    return [
        StoredEvent(instance_id, start + i, WorkflowStarted(timestamp=T0), 1.7e9) for i in range(n)
    ]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


# --------------------------------------------------------------------------- files
def test_a_file_store_keeps_everything_when_reopened(tmp_path: Path) -> None:
    path = tmp_path / "wf.duckdb"
    store = DuckDBStore(path)
    store.commit(
        Batch(
            records={"a": record("a"), "b": record("b")},
            events=events("a", 3),
            clock_time=T0 + timedelta(days=3),
        )
    )
    store.close()
    again = DuckDBStore(str(path))
    assert [r.instance_id for r in again.records()] == ["a", "b"]
    assert len(again.history("a")) == 3
    assert again.clock_time() == T0 + timedelta(days=3)
    # appends continue where the history stopped; new instances come after the old ones
    with pytest.raises(ValueError, match="cannot append event 0"):
        again.commit(Batch(events=events("a", 1)))
    again.commit(Batch(records={"c": record("c")}, events=events("a", 1, start=3)))
    assert [r.instance_id for r in again.records()] == ["a", "b", "c"]
    again.close()


def test_a_closed_file_store_reopens_on_use(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "wf.duckdb")
    store.commit(Batch(records={"a": record("a")}))
    store.close()
    assert [r.instance_id for r in store.records()] == ["a"]
    store.close()


def test_a_file_store_writes_on_one_thread_and_queries_with_every_core(
    tmp_path: Path,
) -> None:
    store = DuckDBStore(tmp_path / "wf.duckdb")
    query = "SELECT current_setting('threads') AS threads"
    assert store.sql(query)["threads"][0] == (os.cpu_count() or 1)
    # the connection's own statements (a turn's commit) go back to one thread
    assert store._connection().execute(query).fetchone() == (1,)
    with pytest.raises(duckdb.Error):
        store.sql("SELECT * FROM no_such_table")
    assert store._connection().execute(query).fetchone() == (1,)
    store.close()


@pytest.mark.parametrize("changed", [1, 3, 6, 20])
def test_updates_of_several_instances_read_back_as_written(tmp_path: Path, changed: int) -> None:
    """Instance rows are updated one by one, joined with a list of values or with a
    frame, depending on how many change; events go as values, lists or a frame."""
    ids = [f"i{n}" for n in range(24)]
    first = Batch(
        records={i: record(i, status=WorkflowStatus.PENDING) for i in ids},
        events=[e for i in ids for e in events(i, 5)],  # 120 events: as lists
    )
    later = T0 + timedelta(hours=1)
    second = Batch(
        records={
            i: record(
                i,
                status=WorkflowStatus.COMPLETED if n % 2 else WorkflowStatus.RUNNING,
                last_updated_at=later,
                output=f'"{n}"' if n % 2 else None,
                custom_status="half" if n % 3 == 0 else None,
            )
            for n, i in enumerate(ids[:changed])
        }
        | {"new": record("new")},
        events=events(ids[0], 1, start=5) + events("new", 200),  # 201 events: a frame
    )
    reopened, oracle = committed_and_reopened(tmp_path / "wf.duckdb", [first, second])
    assert reopened.histories([*ids, "new"]) == oracle.histories([*ids, "new"])
    reopened.close()


def committed_and_reopened(path: Path, batches: list[Batch]) -> tuple[DuckDBStore, MemoryStore]:
    """The file store at ``path`` after ``batches``, reopened, and a memory store that took
    the same batches; their records agree."""
    store, oracle = DuckDBStore(path), MemoryStore()
    for batch in batches:
        store.commit(batch)
        oracle.commit(batch)
    store.close()
    reopened = DuckDBStore(path)
    assert reopened.records() == oracle.records()
    return reopened, oracle


@pytest.mark.parametrize("changed", [2, 20, 200])
def test_instances_that_take_the_same_values_read_back_as_written(
    tmp_path: Path, changed: int
) -> None:
    """Rows that take the same new values (a turn's time and status) are set with one
    statement for all, by key list or, beyond 128 keys, by a list parameter."""
    ids = [f"i{n}" for n in range(240)]
    first = Batch(records={i: record(i, status=WorkflowStatus.PENDING) for i in ids})
    later = T0 + timedelta(hours=1)
    second = Batch(records={i: record(i, last_updated_at=later) for i in ids[:changed]})
    reopened, _ = committed_and_reopened(tmp_path / "wf.duckdb", [first, second])
    statuses = [r.status for r in reopened.records()]
    assert statuses.count(WorkflowStatus.RUNNING) == changed
    reopened.close()


def test_a_failed_commit_rolls_back_and_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement failing inside the transaction (after the purge, the deletes and the
    record upsert ran) leaves the file as it was; the store then goes on normally."""
    store = DuckDBStore(tmp_path / "wf.duckdb")
    store.commit(
        Batch(records={"a": record("a"), "b": record("b")}, events=events("a", 2) + events("b", 1))
    )

    def broken(stored: list[StoredEvent]) -> tuple[str, list[object]]:
        return ("INSERT INTO history VALUES (?)", ["not a row"])

    monkeypatch.setattr(_duckdb_writes, "insert_events", broken)
    with pytest.raises(wf.StoreError, match="nothing of the batch was written"):
        store.commit(
            Batch(
                purges={"b"},
                resets={"a"},
                records={"a": record("a", status=WorkflowStatus.COMPLETED), "c": record("c")},
                events=events("a", 1),
                clock_time=T0 + timedelta(days=1),
            )
        )
    monkeypatch.undo()
    assert [(r.instance_id, r.status) for r in store.records()] == [
        ("a", WorkflowStatus.RUNNING),
        ("b", WorkflowStatus.RUNNING),
    ]
    assert len(store.history("a")) == 2 and len(store.history("b")) == 1
    assert store.clock_time() is None
    store.commit(Batch(events=events("a", 1, start=2), records={"c": record("c")}))
    assert len(store.history("a")) == 3
    assert [r.instance_id for r in store.records()] == ["a", "b", "c"]
    store.close()


def test_a_write_of_many_events_appends_them_in_parts_as_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events beyond ``EVENT_PART`` go in several statements, built one at a time; they
    read back whole, and a part that fails takes back the parts before it."""
    monkeypatch.setattr(_duckdb_writes, "EVENT_PART", 4)
    ids = ["a", "b", "c"]
    batch = Batch(
        records={i: record(i) for i in ids}, events=[e for i in ids for e in events(i, 5)]
    )
    reopened, oracle = committed_and_reopened(tmp_path / "wf.duckdb", [batch])
    for i in ids:
        assert reopened.history(i) == oracle.history(i) and len(reopened.history(i)) == 5

    built: list[int] = []
    real = _duckdb_writes.insert_events

    def failing_third_part(stored: list[StoredEvent]) -> tuple[str, object]:
        built.append(len(stored))
        if len(built) == 3:
            return ("INSERT INTO history VALUES (?)", ["not a row"])
        return real(stored)

    monkeypatch.setattr(_duckdb_writes, "insert_events", failing_third_part)
    more = Batch(events=[e for i in ids for e in events(i, 4, start=5)])
    with pytest.raises(wf.StoreError, match="nothing of the batch was written"):
        reopened.commit(more)
    assert built == [4, 4, 4]  # parts built one by one, up to the failing one
    assert [len(reopened.history(i)) for i in ids] == [5, 5, 5]
    reopened.close()


def test_a_file_that_is_not_a_store_is_refused_and_left_untouched(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 10)
    tiny = tmp_path / "tiny.bin"
    tiny.write_bytes(b"DUCK")
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE sales (id INTEGER, amount DOUBLE); INSERT INTO sales VALUES (1, 2)")
    con.close()
    for path in (text, tiny, other):
        before, names = digest(path), siblings(path)
        for read_only in (False, True):
            with pytest.raises(wf.StoreFormatError, match="not a wfkit store") as info:
                DuckDBStore(path, read_only=read_only)
            assert str(path) in str(info.value)
            assert digest(path) == before and siblings(path) == names
        with pytest.raises(wf.StoreFormatError):
            wf.WorkflowRuntime(store=path)
        assert digest(path) == before and siblings(path) == names


def test_a_store_of_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_version SET version = version + 1")
    con.close()
    before, names = digest(path), siblings(path)
    for read_only in (False, True):
        with pytest.raises(wf.StoreFormatError, match="newer wfkit") as info:
            DuckDBStore(path, read_only=read_only)
        assert str(path) in str(info.value)
    assert digest(path) == before and siblings(path) == names


def test_an_empty_file_or_database_becomes_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    blank = tmp_path / "blank.duckdb"
    duckdb.connect(str(blank)).close()
    for path in (empty, blank):
        store = DuckDBStore(path)
        store.commit(Batch(records={"a": record("a")}))
        store.close()
        assert [r.instance_id for r in DuckDBStore(path, read_only=True).records()] == ["a"]


def test_read_only_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no wfkit store"):
        DuckDBStore(tmp_path / "missing.duckdb", read_only=True)
    with pytest.raises(ValueError, match="in-memory"):
        DuckDBStore(read_only=True)


def test_a_read_only_store_refuses_changes(tmp_path: Path) -> None:
    path = tmp_path / "wf.duckdb"
    store = DuckDBStore(path)
    store.commit(Batch(records={"a": record("a", status=WorkflowStatus.COMPLETED)}))
    store.close()
    reader = DuckDBStore(path, read_only=True)
    with pytest.raises(wf.StoreError, match="read-only"):
        reader.commit(Batch(records={"b": record("b")}))
    wfr = wf.WorkflowRuntime(store=reader)
    with pytest.raises(wf.StoreError, match="read-only"):
        wfr.start()
    assert list(wfr.instances()["instance_id"]) == ["a"]
    client = wf.DaprWorkflowClient(wfr)
    assert client.get_workflow_state("a").runtime_status is wf.WorkflowStatus.COMPLETED
    with pytest.raises(wf.StoreError, match="read-only"):
        client.purge_workflow("a")

    @wfr.workflow
    def noop(ctx: wf.DaprWorkflowContext) -> None:
        return None

    with pytest.raises(wf.StoreError, match="read-only"):
        client.schedule_new_workflow(noop)
    assert len(reader.records()) == 1
    reader.close()


def test_a_second_writer_in_this_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wf.duckdb"
    first = DuckDBStore(path)
    first.commit(Batch(records={"a": record("a")}))
    with pytest.raises(wf.StoreLockedError, match="already open for writing in this process"):
        DuckDBStore(path)
    reader = DuckDBStore(path, read_only=True)  # a snapshot
    assert [r.instance_id for r in reader.records()] == ["a"]
    reader.close()
    first.close()
    second = DuckDBStore(path)  # closed: free again
    assert [r.instance_id for r in second.records()] == ["a"]
    second.close()


OPEN_FOR_WRITING = "import sys\nfrom wfkit.store import DuckDBStore\nDuckDBStore(sys.argv[1])"


def test_reading_a_file_this_process_writes_keeps_it_locked(tmp_path: Path) -> None:
    path = tmp_path / "wf.duckdb"
    writer = DuckDBStore(path)
    writer.commit(Batch(records={"a": record("a")}))
    readers = [DuckDBStore(path, read_only=True) for _ in range(2)]  # snapshots
    assert [len(r.records()) for r in readers] == [1, 1]
    other = subprocess.run(
        [sys.executable, "-c", OPEN_FOR_WRITING, str(path)], capture_output=True, text=True
    )
    assert other.returncode != 0 and "StoreLockedError" in other.stderr
    for reader in readers:
        reader.close()
    writer.close()
    # a file open read-only here is shared by other readers, and refused to a writer
    first = DuckDBStore(path, read_only=True)
    second = DuckDBStore(path, read_only=True)
    assert len(second.records()) == 1
    with pytest.raises(wf.StoreLockedError, match="open read-only in this process"):
        DuckDBStore(path)
    first.close()
    second.close()


WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    from wfkit.core._state import InstanceRecord, WorkflowStatus
    from wfkit.store import Batch, DuckDBStore
    store = DuckDBStore(sys.argv[1])
    t = datetime(2025, 1, 1)
    store.commit(Batch(records={"a": InstanceRecord("a", "wf", WorkflowStatus.RUNNING, t, t)}))
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_another_process_writing_the_file_locks_it(tmp_path: Path) -> None:
    path = tmp_path / "wf.duckdb"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        with pytest.raises(wf.StoreLockedError) as info:
            DuckDBStore(path)
        message = str(info.value)
        assert str(path) in message
        assert "read_only=True" in message
        assert f"PID {writer.pid}" in message
        with pytest.raises(wf.StoreLockedError):
            wf.WorkflowRuntime(store=str(path))
        # read-only works meanwhile: a snapshot of what the writer committed
        wfr = wf.WorkflowRuntime(store=DuckDBStore(path, read_only=True))
        assert list(wfr.instances()["instance_id"]) == ["a"]
        assert wfr.sql("SELECT count(*) AS n FROM instances")["n"][0] == 1
        wfr.shutdown()
    finally:
        writer.kill()
        writer.wait()
    DuckDBStore(path).close()  # free once the writer is gone


# --------------------------------------------------------------------------- SQL views
def retrying_runtime(store: object) -> wf.WorkflowRuntime:
    wfr = wf.WorkflowRuntime(store=store, clock=wf.VirtualClock(T0, flow=False))
    attempts: dict[str, int] = {}
    policy = wf.RetryPolicy(first_retry_interval=timedelta(seconds=5), max_number_of_attempts=3)

    @wfr.activity
    def flaky(ctx: wf.WorkflowActivityContext, key: str) -> str:
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] < 3:
            raise RuntimeError(f"{key} attempt {attempts[key]}")
        return key

    @wfr.activity
    def steady(ctx: wf.WorkflowActivityContext, x: int) -> int:
        return x * 2

    @wfr.workflow
    def flaky_child(ctx: wf.DaprWorkflowContext, key: str):  # type: ignore[no-untyped-def]
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] < 2:
            raise ValueError("child fails once")
        return (yield ctx.call_activity(steady, input=21))

    @wfr.workflow
    def parent(ctx: wf.DaprWorkflowContext, _: None):  # type: ignore[no-untyped-def]
        a = yield ctx.call_activity(flaky, input="a", retry_policy=policy)
        b = yield ctx.call_activity(steady, input=1)
        yield ctx.create_timer(timedelta(hours=2))
        c = yield ctx.call_child_workflow(flaky_child, input="c", retry_policy=policy)
        with contextlib.suppress(TimeoutError):
            yield ctx.wait_for_external_event("never", timeout=timedelta(minutes=1))
        return [a, b, c]

    return wfr


def test_tasks_view_groups_attempts_and_timers_view_shows_due_times() -> None:
    wfr = retrying_runtime(":memory:")
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    iid = client.schedule_new_workflow("parent", instance_id="p")
    assert output(complete(client, iid)) == ["a", 2, 42]
    tasks = wfr.sql(
        "SELECT kind, name, task_ids, attempts, outcome, result, duration, child_instance_id "
        "FROM tasks WHERE instance_id = 'p' ORDER BY scheduled_seq"
    )
    rows = tasks.to_dict("records")
    assert [(r["kind"], r["name"], r["attempts"], r["outcome"]) for r in rows] == [
        ("activity", "flaky", 3, "completed"),
        ("activity", "steady", 1, "completed"),
        ("child_workflow", "flaky_child", 2, "completed"),
    ]
    assert len(rows[0]["task_ids"]) == 3
    assert rows[0]["result"] == '"a"'
    assert rows[0]["duration"] == timedelta(seconds=10)  # two retries, 5 s apart
    assert rows[2]["result"] == "42" and rows[2]["child_instance_id"] == "p:0008"
    timers = wfr.sql(
        "SELECT origin, name, created, fire_at, fired, state FROM timers "
        "WHERE instance_id = 'p' ORDER BY created_seq"
    ).to_dict("records")
    assert [(t["origin"], t["state"]) for t in timers] == [
        ("activity_retry", "fired"),
        ("activity_retry", "fired"),
        ("create_timer", "fired"),
        ("child_workflow_retry", "fired"),
        ("external_event", "fired"),
    ]
    for t in timers:
        assert t["fired"] == t["fire_at"]  # virtual time: every timer fired when due
    assert timers[2]["fire_at"] - timers[2]["created"] == timedelta(hours=2)
    assert timers[4]["name"] == "never"
    wfr.shutdown()


def test_pending_and_canceled_tasks_and_timers() -> None:
    wfr = wf.WorkflowRuntime(
        clock=wf.VirtualClock(T0, auto_skip=False, flow=False), store=":memory:"
    )

    @wfr.workflow
    def waits(ctx: wf.DaprWorkflowContext, _: None):  # type: ignore[no-untyped-def]
        yield ctx.create_timer(timedelta(days=1))
        yield ctx.wait_for_external_event("go")

    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(waits, instance_id="w")
    client.wait_for_workflow_start("w", timeout_in_seconds=WAIT)
    wfr.clock.advance(timedelta(0))
    assert list(wfr.sql("SELECT state FROM timers")["state"]) == ["pending"]
    client.terminate_workflow("w")
    complete(client, "w")
    assert list(wfr.sql("SELECT state FROM timers")["state"]) == ["canceled"]
    wfr.shutdown()


# --------------------------------------------------------------------------- runtime queries
def chain_runtime(store: object) -> wf.WorkflowRuntime:
    wfr = wf.WorkflowRuntime(store=store, clock=wf.VirtualClock(T0, flow=False))

    @wfr.activity
    def inc(ctx: wf.WorkflowActivityContext, x: int) -> int:
        return x + 1

    @wfr.workflow
    def chain(ctx: wf.DaprWorkflowContext, n: int):  # type: ignore[no-untyped-def]
        x = 0
        for _ in range(n):
            x = yield ctx.call_activity(inc, input=x)
        return x

    @wfr.workflow
    def family(ctx: wf.DaprWorkflowContext, n: int):  # type: ignore[no-untyped-def]
        results = yield wf.when_all(
            [ctx.call_child_workflow(chain, input=n, instance_id=f"kid-{i}") for i in range(2)]
        )
        return sum(results)

    @wfr.workflow
    def fails(ctx: wf.DaprWorkflowContext, _: None) -> None:
        raise ValueError("no")

    return wfr


def test_store_argument_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(wf.WorkflowRuntime().store, DuckDBStore)
    assert wf.WorkflowRuntime().store.path is None  # type: ignore[attr-defined]
    assert isinstance(wf.WorkflowRuntime(store="memory").store, MemoryStore)
    for spec in (str(tmp_path / "a.duckdb"), tmp_path / "b.duckdb"):
        wfr = wf.WorkflowRuntime(store=spec)
        assert isinstance(wfr.store, DuckDBStore)
        assert wfr.store.path == Path(spec)  # type: ignore[attr-defined]
        wfr.shutdown()
    mine = MemoryStore()
    assert wf.WorkflowRuntime(store=mine).store is mine
    for bad in ("", 42, object()):
        with pytest.raises(ValueError, match="store must be"):
            wf.WorkflowRuntime(store=bad)


@pytest.mark.parametrize("store", ["memory", ":memory:", "file"])
def test_history_and_instances_frames(store: str | None, tmp_path: Path) -> None:
    wfr = chain_runtime(tmp_path / "wf.duckdb" if store == "file" else store)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    iid = client.schedule_new_workflow("chain", input=3, instance_id="c")
    complete(client, iid)
    client.schedule_new_workflow("fails", instance_id="f")
    complete(client, "f")
    history = wfr.history("c")
    assert list(history.columns) == [
        "instance_id",
        "seq",
        "event_id",
        "kind",
        "name",
        "ts",
        "wall_ts",
        "task_id",
        "payload",
        "failure",
        "fields",
    ]
    assert list(history["seq"]) == list(range(len(history)))
    assert list(history["kind"][:3]) == ["WorkflowStarted", "ExecutionStarted", "TaskScheduled"]
    assert history["payload"].iloc[-1] == "3"
    assert history["ts"].iloc[0] == T0
    # time travel: the history up to an event, or any range of it
    assert list(wfr.history("c", stop=3)["kind"]) == list(history["kind"][:3])
    assert list(wfr.history("c", start=2, stop=5)["seq"]) == [2, 3, 4]
    instances = wfr.instances()
    assert list(instances["instance_id"]) == ["c", "f"]
    assert list(instances["status"]) == ["COMPLETED", "FAILED"]
    assert instances["failure_type"].iloc[1] == "ValueError"
    assert list(wfr.instances(status=wf.WorkflowStatus.FAILED)["instance_id"]) == ["f"]
    assert list(wfr.instances(status=["completed", "FAILED"])["instance_id"]) == ["c", "f"]
    assert list(wfr.instances(name="chain")["instance_id"]) == ["c"]
    assert wfr.instances(name=["nothing"]).empty
    with pytest.raises(ValueError, match="status must be"):
        wfr.instances(status="done")
    with pytest.raises(wf.InstanceNotFoundError):
        wfr.history("nope")
    if store == "memory":
        with pytest.raises(wf.StoreError, match="SQL queries need the DuckDB store"):
            wfr.sql("SELECT 1")
    else:
        frame = wfr.sql("SELECT kind, count(*) AS n FROM history GROUP BY kind ORDER BY kind")
        assert dict(zip(frame["kind"], frame["n"], strict=True))["TaskCompleted"] == 3
        assert wfr.sql("SELECT ? AS x", [5])["x"][0] == 5
        assert wfr.sql("SET threads = 2").empty
    wfr.shutdown()


@pytest.mark.parametrize("store", ["memory", ":memory:", "file"])
def test_purge_deletes_children_and_finished_instances_stay_until_purged(
    store: str | None, tmp_path: Path
) -> None:
    wfr = chain_runtime(tmp_path / "wf.duckdb" if store == "file" else store)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("family", input=2, instance_id="fam")
    assert output(complete(client, "fam")) == 4
    client.schedule_new_workflow("chain", input=1, instance_id="other")
    complete(client, "other")
    client.schedule_new_workflow("fails", instance_id="f")
    complete(client, "f")
    assert set(wfr.instances()["instance_id"]) == {"fam", "kid-0", "kid-1", "other", "f"}
    assert client.purge_workflow("fam") == 3
    assert set(wfr.instances()["instance_id"]) == {"other", "f"}
    for gone in ("fam", "kid-0", "kid-1"):
        assert wfr.store.history(gone) == []
    if store != "memory":
        left = wfr.sql("SELECT DISTINCT instance_id FROM history ORDER BY 1")
        assert list(left["instance_id"]) == ["f", "other"]
        assert wfr.sql("SELECT count(*) AS n FROM tasks WHERE instance_id LIKE 'kid%'")["n"][0] == 0
    wfr.shutdown()


def test_a_file_runtime_resumes_after_a_restart_with_its_clock(tmp_path: Path) -> None:
    """Unfinished instances, pending timers and scheduled starts survive a restart; the
    virtual clock goes on from where it was (a default clock would start at wall time)."""
    path = tmp_path / "wf.duckdb"

    def build() -> wf.WorkflowRuntime:
        wfr = wf.WorkflowRuntime(store=path, clock=wf.VirtualClock(auto_skip=False, flow=False))

        @wfr.workflow
        def sleeper(ctx: wf.DaprWorkflowContext, days: int):  # type: ignore[no-untyped-def]
            yield ctx.create_timer(timedelta(days=days))
            return ctx.current_utc_datetime.isoformat()

        return wfr

    wfr = build()
    wfr.start()
    start = wfr.clock.now()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("sleeper", input=3, instance_id="s")
    client.schedule_new_workflow(
        "sleeper", input=1, instance_id="later", start_at=start + timedelta(days=10)
    )
    client.wait_for_workflow_start("s", timeout_in_seconds=WAIT)
    wfr.clock.advance(timedelta(days=2))
    wfr.shutdown()

    time.sleep(1.1)  # a default clock would now start a second later
    again = build()
    assert again.clock.now() == start + timedelta(days=2)
    assert [t.fire_at for t in again.clock.pending_timers()] == []  # resumed at start()
    again.start()
    assert sorted(t.fire_at for t in again.clock.pending_timers()) == [
        start + timedelta(days=3),
        start + timedelta(days=10),
    ]
    client = wf.DaprWorkflowClient(again)
    again.clock.advance(timedelta(days=1))
    assert output(complete(client, "s")) == (start + timedelta(days=3)).isoformat()
    assert client.get_workflow_state("later").runtime_status is wf.WorkflowStatus.PENDING
    again.clock.advance(timedelta(days=8))
    assert output(complete(client, "later")) == (start + timedelta(days=11)).isoformat()
    again.shutdown()


def test_instances_of_unregistered_workflows_wait_for_registration(tmp_path: Path) -> None:
    path = tmp_path / "wf.duckdb"
    wfr = wf.WorkflowRuntime(store=path, clock=wf.VirtualClock(T0, auto_skip=False, flow=False))

    @wfr.workflow
    def sleeper(ctx: wf.DaprWorkflowContext, _: None):  # type: ignore[no-untyped-def]
        yield ctx.create_timer(timedelta(hours=1))
        return "woke"

    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(sleeper, instance_id="s")
    client.wait_for_workflow_start("s", timeout_in_seconds=WAIT)
    wfr.shutdown()

    again = wf.WorkflowRuntime(store=path, clock=wf.VirtualClock(T0, auto_skip=False, flow=False))

    @again.workflow
    def other(ctx: wf.DaprWorkflowContext) -> None:
        return None

    with pytest.warns(wf.WfkitWarning, match="not registered"):
        again.start()
    client = wf.DaprWorkflowClient(again)
    assert client.get_workflow_state("s").runtime_status is wf.WorkflowStatus.RUNNING
    with pytest.raises(wf.RuntimeNotStartedError, match="once its workflow 'sleeper'"):
        client.raise_workflow_event("s", "x")
    with pytest.raises(wf.InstanceExistsError):
        client.schedule_new_workflow(other, instance_id="s")  # the id is taken
    again.register_workflow(sleeper)  # resumes it
    again.clock.advance(timedelta(hours=1))
    assert output(complete(client, "s")) == "woke"
    again.shutdown()


def test_a_forks_origin_survives_reopening_the_file(tmp_path):
    from datetime import datetime

    import wfkit as wf

    path = tmp_path / "forks.duckdb"

    def noop(ctx, x):
        return x

    def two_steps(ctx, n):
        a = yield ctx.call_activity(noop, input=n)
        b = yield ctx.call_activity(noop, input=a + 1)
        return b

    def runtime():
        wfr = wf.WorkflowRuntime(
            clock=wf.VirtualClock(datetime(2025, 1, 1), flow=False), store=str(path)
        )
        wfr.register_activity(noop)
        wfr.register_workflow(two_steps)
        return wfr

    wfr = runtime()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    source = client.schedule_new_workflow(two_steps, input=1, instance_id="source")
    client.wait_for_workflow_completion(source, timeout_in_seconds=10)
    rerun = client.rerun_workflow_from_event(source, 2, new_instance_id="rerun", input=10)
    assert (
        client.wait_for_workflow_completion(rerun, timeout_in_seconds=10).serialized_output == "10"
    )
    wfr.shutdown()

    reopened = runtime()
    record = reopened._engine.record("rerun")
    assert (record.origin_instance_id, record.origin_event_id) == ("source", 2)
    row = reopened.sql(
        "select origin_instance_id, origin_event_id from instances where instance_id = 'rerun'"
    )
    assert list(row.iloc[0]) == ["source", 2]
    reopened.shutdown()


def test_recent_histories_read_the_same_as_rows_and_stay_bounded(monkeypatch):
    from datetime import datetime

    import wfkit as wf
    from wfkit.store import _recent

    monkeypatch.setattr(_recent, "RECENT_EVENTS", 40)

    def noop(ctx, x):
        return x

    def chain(ctx, n):
        for i in range(n):
            yield ctx.call_activity(noop, input=i)
        return n

    wfr = wf.WorkflowRuntime(
        clock=wf.VirtualClock(datetime(2025, 1, 1), flow=False), store=":memory:"
    )
    wfr.register_activity(noop)
    wfr.register_workflow(chain)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    ids = []
    for n in (3, 4, 5):  # one after another, so the first is the least recent
        ids.append(client.schedule_new_workflow(chain, input=n))
        client.wait_for_workflow_completion(ids[-1], timeout_in_seconds=10)
    store = wfr.store
    assert store._recent.events <= 40
    assert ids[0] not in store._recent and ids[-1] in store._recent  # least recent evicted
    cached = {iid: store.history(iid) for iid in ids}
    partial = store.history(ids[-1], start=2, stop=7)
    store._recent.clear()
    for iid in ids:
        from_rows = store.history(iid)
        assert [(s.seq, s.event) for s in cached[iid]] == [(s.seq, s.event) for s in from_rows]
        # the table keeps wall times to the microsecond
        assert all(
            abs(a.wall_time - b.wall_time) <= 1e-6
            for a, b in zip(cached[iid], from_rows, strict=True)
        )
    assert [s.seq for s in partial] == [2, 3, 4, 5, 6]
    wfr.shutdown()


@pytest.mark.parametrize("flush_rows", [5, 1_000_000])
def test_an_in_memory_store_answers_records_before_writing_and_sql_sees_everything(
    monkeypatch, flush_rows
):
    # Write-behind: records come from memory while batches wait; a write every few rows
    # (a small bound) and one held until the first SQL read (a large one) read alike.
    monkeypatch.setattr(duckdb_store, "FLUSH_ROWS", flush_rows)
    store = DuckDBStore()
    store.commit(Batch(records={"a": record("a"), "b": record("b")}, events=events("a", 3)))
    store.commit(Batch(records={"a": record("a", status=WorkflowStatus.COMPLETED)}))
    store.commit(Batch(purges={"b"}))
    store.commit(Batch(records={"c": record("c", created_at=T0 + timedelta(days=1))}))
    assert store.record("a") == record("a", status=WorkflowStatus.COMPLETED)
    assert store.record("b") is None
    assert store.record("c").created_at == T0 + timedelta(days=1)  # type: ignore[union-attr]
    frame = store.sql("SELECT instance_id, status, created_at FROM instances ORDER BY ordinal")
    assert frame.values.tolist() == [
        ["a", "COMPLETED", T0],
        ["c", "RUNNING", T0 + timedelta(days=1)],
    ]
    assert [s.seq for s in store.history("a")] == [0, 1, 2]
    assert store.sql("SELECT count(*) AS n, min(ts) AS ts FROM history").values.tolist() == [
        [3, T0]
    ]
    assert [r.instance_id for r in store.records()] == ["a", "c"]


def test_histories_of_instances_the_held_writes_leave_alone_do_not_wait_for_them() -> None:
    """Replays read idle instances' histories: the held-back writes of others stay held,
    and any history they change (new events, a purge, a restart) is written first."""
    store = DuckDBStore()
    store.commit(
        Batch(
            records={i: record(i) for i in "abcd"},
            events=events("a", 2) + events("b", 2) + events("c", 2),
        )
    )
    store.sql("SELECT 1")  # written
    store.commit(Batch(records={"d": record("d")}, events=events("d", 3)))
    held = store._pending.rows
    assert [len(h) for h in store.histories(["a", "b"]).values()] == [2, 2]
    assert store._pending.rows == held  # the writes of d still wait
    store.commit(Batch(records={"a": record("a")}, events=events("a", 1, start=2)))
    store.commit(Batch(purges={"b"}))
    store.commit(Batch(resets={"c"}, records={"c": record("c")}, events=events("c", 1)))
    got = store.histories(["a", "b", "c", "d"])
    assert {i: [s.seq for s in h] for i, h in got.items()} == {
        "a": [0, 1, 2],
        "b": [],
        "c": [0],
        "d": [0, 1, 2],
    }
    assert not store._pending  # written before reading
    store.commit(Batch(records={"d": record("d")}, events=events("d", 1, start=3)))
    assert [s.seq for s in store.histories(["d"])["d"]] == [0, 1, 2, 3]


# --------------------------------------------------------------------------- untrusted files
SECRET = "wfkit-secret-7f3a9c"


def crafted(tmp_path: Path, *statements: str) -> Path:
    """A real store file changed by ``statements``, and a secret file beside it."""
    (tmp_path / "secret.txt").write_text(SECRET)
    path = tmp_path / "crafted.duckdb"
    store = DuckDBStore(path)
    store.commit(Batch(records={"a": record("a")}, events=events("a", 2)))
    store.close()
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement.replace("SECRET_FILE", str(tmp_path / "secret.txt")))
    con.close()
    return path


READ_SECRET = [
    (
        "DROP TABLE instances",
        "CREATE VIEW instances AS SELECT content AS instance_id, 'wf' AS name, "
        "'RUNNING' AS status, now()::TIMESTAMP AS created_at, "
        "now()::TIMESTAMP AS last_updated_at, NULL::VARCHAR AS input, "
        "NULL::VARCHAR AS output, NULL::VARCHAR AS custom_status, "
        "NULL::VARCHAR AS failure_message, NULL::VARCHAR AS failure_type, "
        "NULL::VARCHAR AS failure_stack, NULL::VARCHAR AS parent_instance_id, "
        "NULL::INTEGER AS parent_task_id, NULL::TIMESTAMP AS start_at, "
        "NULL::VARCHAR AS origin_instance_id, NULL::INTEGER AS origin_event_id, "
        "0::BIGINT AS ordinal FROM read_text('SECRET_FILE')",
    ),
    (
        "DROP INDEX history_instance",
        "CREATE TABLE history_data AS FROM history",
        "DROP TABLE history",
        "CREATE VIEW history AS SELECT h.* REPLACE (s.content AS payload) "
        "FROM history_data AS h, read_text('SECRET_FILE') AS s",
    ),
    (
        "DROP TABLE schema_version",
        "CREATE VIEW schema_version AS SELECT 'wfkit' AS application, 1 AS version, "
        "content AS wfkit_version, NULL::TIMESTAMP AS created_at FROM read_text('SECRET_FILE')",
    ),
]


@pytest.mark.parametrize("statements", READ_SECRET, ids=["instances", "history", "version"])
def test_a_view_posing_as_a_wfkit_table_is_refused_and_never_run(
    tmp_path: Path, statements: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    from wfkit.cli import main

    path = crafted(tmp_path, *statements)
    # the view does read the secret where external access is on (plain DuckDB)
    assert SECRET in str(
        duckdb.connect(str(path), read_only=True)
        .sql("FROM " + statements[-1].split()[2])
        .fetchall()
    )
    before, names = digest(path), siblings(path)
    for read_only in (True, False):
        with pytest.raises(wf.StoreFormatError, match="is a view") as info:
            DuckDBStore(path, read_only=read_only)
        assert SECRET not in str(info.value)
    with pytest.raises(wf.StoreFormatError):
        wf.WorkflowRuntime(store=str(path))
    for argv in (["list", "--db", str(path)], ["history", "a", "--db", str(path)]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert SECRET not in out + err
        assert err.startswith("wfkit: error: ") and err.count("\n") == 1, err
        assert "is a view" in err
    assert digest(path) == before and siblings(path) == names


LAYOUTS = {
    "extra column": "ALTER TABLE instances ADD COLUMN note VARCHAR",
    "missing column": "DROP INDEX history_instance; ALTER TABLE history DROP COLUMN fields",
    "wrong type": "DROP INDEX history_instance; ALTER TABLE history ALTER payload TYPE BLOB",
    "a default": "ALTER TABLE instances ALTER COLUMN input SET DEFAULT 'x'",
    "meta": "ALTER TABLE meta ADD COLUMN extra INTEGER",
}


@pytest.mark.parametrize("change", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_a_wfkit_table_of_another_layout_is_refused(tmp_path: Path, change: str) -> None:
    path = crafted(tmp_path, change)
    before = digest(path)
    for read_only in (True, False):
        with pytest.raises(wf.StoreFormatError, match="layout of") as info:
            DuckDBStore(path, read_only=read_only)
        assert "schema version 1" in str(info.value)
    assert digest(path) == before


def test_a_file_with_macros_is_refused(tmp_path: Path) -> None:
    path = crafted(tmp_path, "CREATE MACRO evil() AS TABLE SELECT * FROM read_text('SECRET_FILE')")
    with pytest.raises(wf.StoreFormatError, match=r"macros \(evil\)"):
        DuckDBStore(path, read_only=True)


def test_the_files_own_views_are_never_run(tmp_path: Path) -> None:
    path = crafted(
        tmp_path,
        "CREATE OR REPLACE VIEW timers AS SELECT content AS instance_id FROM read_text('SECRET_FILE')",
    )
    for read_only in (True, False):
        store = DuckDBStore(path, read_only=read_only)
        timers = store.sql("SELECT * FROM timers")
        assert "timer_id" in timers.columns and SECRET not in timers.to_string()
        # the file's own view, asked for by its full name, cannot read files
        with pytest.raises(duckdb.PermissionException):
            store.sql("SELECT * FROM crafted.main.timers")
        store.close()


def test_store_files_are_opened_without_external_access_or_extensions(tmp_path: Path) -> None:
    path = crafted(tmp_path)
    for read_only in (True, False):
        store = DuckDBStore(path, read_only=read_only)
        settings = store.sql(
            "SELECT current_setting('enable_external_access') AS external, "
            "current_setting('autoload_known_extensions') AS autoload, "
            "current_setting('autoinstall_known_extensions') AS autoinstall"
        ).iloc[0]
        assert not any(settings.tolist())
        with pytest.raises(duckdb.PermissionException):
            store.sql(f"SELECT * FROM read_text('{tmp_path / 'secret.txt'}')")
        store.close()
    # bulk writes (many rows from Python columns) still work with external access off
    store = DuckDBStore(path)
    store.commit(
        Batch(records={f"r{i}": record(f"r{i}") for i in range(50)}, events=events("b", 50))
    )
    store.close()
    again = DuckDBStore(path, read_only=True)
    assert len(again.records()) == 51 and len(again.history("b")) == 50
    again.close()


# --------------------------------------------------------------------------- damaged files
def _duckdb_checksum(block: bytes) -> int:
    """DuckDB's header checksum, to make a header that is intact but names another format."""
    total = 5381
    for i in range(0, len(block), 8):
        word = int.from_bytes(block[i : i + 8], "little")
        total ^= (word * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    return total


def damaged_files(good: bytes, folder: Path) -> dict[str, bytes]:
    """Truncations, flipped bytes, zeroed blocks and foreign files made from a store file."""
    size, block = len(good), 262144
    cases: dict[str, bytes] = {}
    for n in (8, 100, 4096, 12288, 12288 + block // 2, size // 2, size - 4096):
        cases[f"truncated to {n}"] = good[:n]
    offsets = [0, 8, 20, 4096 + 8, 8192 + 8, 12288 + 100]
    offsets += [12288 + k * block + 5000 for k in range(1, size // block)]
    for offset in offsets:
        flipped = bytearray(good)
        flipped[offset] ^= 0xFF
        cases[f"byte {offset} flipped"] = bytes(flipped)
    for offset in (4096, 8192, 12288, 12288 + block):
        zeroed = bytearray(good)
        zeroed[offset : offset + 4096] = bytes(4096)
        cases[f"block at {offset} zeroed"] = bytes(zeroed)
    cases["a text file"] = b"instance_id,status\na,RUNNING\n" * 50
    cases["an empty file"] = b""
    sqlite = folder / "sqlite.db"
    con = sqlite3.connect(sqlite)
    con.execute("CREATE TABLE instances (instance_id TEXT)")
    con.commit()
    con.close()
    cases["a SQLite file"] = sqlite.read_bytes()
    newer = bytearray(good)
    newer[12:20] = (1000).to_bytes(8, "little")  # the storage format of a future DuckDB
    newer[0:8] = _duckdb_checksum(bytes(newer[8:4096])).to_bytes(8, "little")
    cases["a newer DuckDB format"] = bytes(newer)
    return cases


def test_damaged_files_give_typed_errors_and_are_left_as_they_were(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pytestconfig: pytest.Config
) -> None:
    from wfkit.cli import main

    good_path = tmp_path / "good.duckdb"
    store = DuckDBStore(good_path)
    for b in range(4):  # several blocks of rows, and the indexes over them
        ids = [f"i{b}-{i}" for i in range(500)]
        store.commit(
            Batch(
                records={i: record(i, input=json_text(i)) for i in ids},
                events=[s for i in ids for s in events(i, 6)],
            )
        )
    store.close()
    good = good_path.read_bytes()
    outcomes: dict[str, list[str]] = {}
    for name, data in damaged_files(good, tmp_path).items():
        path = tmp_path / "case.duckdb"
        for stale in tmp_path.glob("case.duckdb*"):
            stale.unlink()
        path.write_bytes(data)
        for read_only in (True, False):
            if read_only is False and not data:
                continue  # an empty file opened for writing becomes a new store, by design
            try:
                opened = DuckDBStore(path, read_only=read_only)
                records = opened.records()
                opened.histories(r.instance_id for r in records)
                if not read_only:
                    opened.commit(Batch(records={"new": record("new")}))
                opened.close()
                outcome = "opened and usable (the damage is in unused space)"
            except wf.StoreError as exc:
                outcome = type(exc).__name__
                assert str(path) in str(exc) and "\n" not in str(exc), (name, exc)
                assert path.read_bytes() == data, f"{name}: the file was changed"
                assert siblings(path) == sorted(["case.duckdb", "good.duckdb", "sqlite.db"])
            outcomes.setdefault(outcome, []).append(f"{name} ({'read' if read_only else 'write'})")
        # the command line: a one-line message and exit 2, or the instances
        path.write_bytes(data)
        code = main(["list", "--db", str(path), "-o", "json"])
        _out, err = capsys.readouterr()
        if code != 0:
            assert code == 2, (name, err)
            assert err.startswith("wfkit: error: ") and err.count("\n") == 1, (name, err)
            assert "Traceback" not in err
            assert path.read_bytes() == data
    if pytestconfig.getoption("capture") == "no":  # the figures, with pytest -s
        with capsys.disabled():
            print("\ndamaged store files:")
            for outcome, names in sorted(outcomes.items()):
                print(f"  {outcome}: {len(names)}: {', '.join(names)}")
    assert {"StoreCorruptError", "StoreFormatError", "StoreVersionError"} <= set(outcomes)
    assert not set(outcomes) - {
        "StoreCorruptError",
        "StoreFormatError",
        "StoreVersionError",
        "opened and usable (the damage is in unused space)",
    }
    assert sum(len(v) for k, v in outcomes.items() if k.startswith("Store")) >= 30


def json_text(value: object) -> str:
    return '{"payload": "' + str(value) * 20 + '"}'
