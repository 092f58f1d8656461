"""Checks of what stores answer beyond the base protocol: pages of history rows and
DataFrames (every store, through :mod:`wfkit.store`'s functions: a
:class:`~wfkit.store.BrowsableStore` answers them itself), and SQL and narrow history
indexes (a :class:`~wfkit.store.QueryableStore`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wfkit.core._history import HistoryEvent, TaskCompleted, TimerFired
from wfkit.core._state import WorkflowStatus
from wfkit.store import _rows
from wfkit.store._base import Batch, HistoryStore, IndexRow, QueryableStore, StoredEvent
from wfkit.store._pages import filter_records, history_frame, history_page, instances_frame
from wfkit.store.contract._support import (
    T0,
    StoreContractError,
    StoreFactory,
    every_kind,
    expect,
    expect_equal,
    record,
    stored,
    stores,
)

if TYPE_CHECKING:
    import pandas

_EPOCH = datetime(1970, 1, 1)


def _two_instances(store: HistoryStore) -> list[StoredEvent]:
    """'b' (created first, 6 events) and 'a' (every kind); the events of 'a'."""
    events = stored("a", every_kind())
    store.commit(
        Batch(
            records={"b": record("b"), "a": record("a", status=WorkflowStatus.COMPLETED)},
            events=stored("b", every_kind()[:6]) + events,
        )
    )
    return events


# --------------------------------------------------------------------------- pages
def check_history_pages_filter_and_count(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = _two_instances(store)
        n = len(events)
        page = history_page(store, instance_id="a", offset=3, limit=4)
        expect_equal((page.total, [r.seq for r in page.rows]), (n, [3, 4, 5, 6]), "a page")
        expect_equal([r.kind for r in page.rows], [e.event.kind for e in events[3:7]], "kinds")
        everything = history_page(store, limit=1000)
        expect_equal(
            [(r.instance_id, r.seq) for r in everything.rows],
            [*(("b", k) for k in range(6)), *(("a", k) for k in range(n))],
            "every row, in creation order then seq",
        )
        scheduled = history_page(store, kind="TaskScheduled", offset=1, limit=2)
        expect_equal(
            (scheduled.total, [(r.instance_id, r.name) for r in scheduled.rows]),
            (4, [("b", "noop"), ("a", "charge")]),
            "a page of one kind",
        )
        named = history_page(store, instance_id="a", name=" APPROV ", limit=10)
        expect_equal(
            [(r.kind, r.name) for r in named.rows],
            [("TimerCreated", "Approval"), ("EventRaised", "Approval")],
            "rows whose name has a part, case-insensitive",
        )
        expect_equal(history_page(store, instance_id="none").total, 0, "an unknown instance")
        expect_equal(history_page(store, offset=10**6).rows, [], "a page past the end")


def check_history_rows_carry_the_columns(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        _two_instances(store)
        failed = history_page(store, instance_id="a", kind="TaskFailed", limit=1).rows[0]
        expect_equal((failed.task_id, failed.payload, failed.fields), (2, None, None), "failed")
        expect_equal(json.loads(failed.failure or "{}").get("error_type"), "ValueError", "failure")
        first = history_page(store, instance_id="a", limit=1).rows[0]
        wall = datetime(2025, 6, 15, 15, 6, 40, 250000)
        expect_equal((first.ts, first.wall_ts, first.task_id), (T0, wall, None), "first row")
        started = history_page(store, instance_id="a", kind="ExecutionStarted").rows[0]
        expect_equal(started.payload, '{"amount": 5000, "items": ["a", "b"]}', "payload")
        expect_equal(json.loads(started.fields or "{}").get("parent_task_id"), 4, "fields")


# --------------------------------------------------------------------------- DataFrames
def _same_frame(got: pandas.DataFrame, expected: pandas.DataFrame, what: str) -> None:
    """The same columns and values (a backend may give a column a nullable dtype)."""
    import pandas.testing

    try:
        pandas.testing.assert_frame_equal(
            got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
        )
    except AssertionError as exc:
        raise StoreContractError(f"{what}: {exc}") from None


def check_history_frames_hold_the_history_rows(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = _two_instances(store)
        for start, stop in [(0, None), (3, 9), (5, 5)]:
            _same_frame(
                history_frame(store, "a", start=start, stop=stop),
                _rows.history_frame(events[start:stop]),
                f"history_frame('a', start={start}, stop={stop})",
            )
        expect(history_frame(store, "none").empty, "history_frame of an unknown instance")


def check_instances_frames_filter_by_status_and_name(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        store.commit(
            Batch(
                records={
                    "x": record("x", name="order", status=WorkflowStatus.FAILED),
                    "y": record("y"),
                    "z": record("z", name="order", parent_instance_id="x", parent_task_id=3),
                }
            )
        )
        cases: list[tuple[list[str] | None, list[str] | None]] = [
            (None, None),
            (["FAILED"], None),
            (None, ["order"]),
            (["RUNNING"], ["order"]),
            ([], None),
        ]
        for statuses, names in cases:
            _same_frame(
                instances_frame(store, statuses=statuses, names=names),
                _rows.instances_frame(
                    filter_records(store.records(), statuses=statuses, names=names)
                ),
                f"instances_frame(statuses={statuses}, names={names})",
            )


# --------------------------------------------------------------------------- SQL
def _queryable(store: HistoryStore) -> QueryableStore:
    if not isinstance(store, QueryableStore):
        raise StoreContractError(f"{store!r} is not a QueryableStore")
    return store


def check_sql_reads_the_tables(make: StoreFactory) -> None:
    with stores(make) as new:
        store = _queryable(new())
        events = _two_instances(store)
        frame = store.sql("SELECT seq, kind FROM history WHERE instance_id = ? ORDER BY seq", ["a"])
        expect_equal(
            list(zip(frame["seq"].tolist(), frame["kind"].tolist(), strict=True)),
            [(s.seq, s.event.kind) for s in events],
            "the history table",
        )
        frame = store.sql(
            "SELECT instance_id, status FROM instances WHERE name = $name ORDER BY instance_id",
            {"name": "wf"},
        )
        expect_equal(frame.values.tolist(), [["a", "COMPLETED"], ["b", "RUNNING"]], "instances")
        expect(store.sql("SET threads = 2").empty, "a statement without a result")


def check_sql_views_of_tasks_and_timers(make: StoreFactory) -> None:
    with stores(make) as new:
        store = _queryable(new())
        fired_at = T0 + timedelta(days=7)
        closing: list[HistoryEvent] = [
            TaskCompleted(timestamp=T0, task_scheduled_id=1, result='"ok"'),
            TimerFired(timestamp=fired_at, timer_id=3, fire_at=fired_at),
        ]
        store.commit(
            Batch(records={"b": record("b")}, events=stored("b", every_kind()[:7] + closing))
        )
        tasks = store.sql("SELECT task_id, kind, name, outcome, result FROM tasks ORDER BY task_id")
        expect_equal(
            tasks.astype(object).where(tasks.notna(), None).values.tolist(),
            [
                [1, "activity", "charge", "completed", '"ok"'],
                [2, "activity", "noop", "pending", None],
                [5, "child_workflow", "child", "pending", None],
            ],
            "the tasks view",
        )
        timers = store.sql("SELECT timer_id, origin, state FROM timers ORDER BY timer_id")
        expect_equal(
            timers.values.tolist(),
            [[3, "create_timer", "fired"], [4, "external_event", "pending"]],
            "the timers view",
        )


# --------------------------------------------------------------------------- indexes
def index_row(stored_event: StoredEvent) -> IndexRow:
    """The :data:`~wfkit.store.IndexRow` of one stored event."""
    row = _rows.event_row(stored_event)
    fields = json.loads(row[10]) if row[10] else {}
    call = fields.get("task_execution_id")
    if call is None:
        call = fields.get("instance_id")
    ts = stored_event.event.timestamp
    return (
        stored_event.seq,
        row[3],
        row[7],
        (ts - _EPOCH) // timedelta(microseconds=1),
        row[6],
        row[4],
        call,
        fields.get("origin"),
    )


def check_history_indexes_are_narrow_rows(make: StoreFactory) -> None:
    with stores(make) as new:
        store = _queryable(new())
        events = _two_instances(store)
        expected = [index_row(s) for s in events]
        expect_equal(store.history_index("a"), expected, "history_index('a')")
        expect_equal(store.history_index("a", 20), expected[20:], "history_index('a', 20)")
        expect_equal(store.history_index("none"), [], "history_index of an unknown instance")


def check_history_payloads_are_read_on_demand(make: StoreFactory) -> None:
    with stores(make) as new:
        store = _queryable(new())
        events = _two_instances(store)
        seqs = [1, 2, 9, 10, 14, 999]
        expected = {}
        for s in events:
            if s.seq in seqs:
                row = _rows.event_row(s)
                expected[s.seq] = (row[8], getattr(s.event, "failure", None))
        expect_equal(store.history_payloads("a", seqs), expected, "history_payloads('a', ...)")
        expect_equal(store.history_payloads("a", []), {}, "no payloads asked for")
