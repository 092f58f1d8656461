"""wfkit attached to Dapr's engine: the client API, the local DuckDB copy and its refresh,
the widgets and time travel on instances that Dapr's own SDK runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dapr.ext.workflow")

import wfkit
from wfkit import timetravel
from wfkit.interop.sidecar import Sidecar
from wfkit.widgets import dashboard_data, timeline_rows
from wfkit.widgets._live import PolledEngine, hub_for
from wfkit.widgets._timeline import open_view

from .connect_app import WAIT, DaprApp, connect_chain, connect_order, connect_parent, dapr_app

APPROVAL = {"by": "ada", "extra": 1}


def until(condition: Callable[[], Any], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def app(sidecar: Sidecar) -> Iterator[DaprApp]:
    with dapr_app(sidecar) as made:
        yield made


@pytest.fixture
def conn(app: DaprApp) -> Iterator[wfkit.Connection]:
    with wfkit.connect(app.sidecar.address, workflows=[connect_order, connect_chain]) as made:
        yield made


def waiting_order(app: DaprApp, amount: int = 20) -> str:
    """An order that has run its activity and waits for its approval."""
    iid = app.client.schedule_new_workflow(connect_order, input=amount)
    app.client.wait_for_workflow_start(iid, timeout_in_seconds=WAIT)
    until(lambda: _has_wait(app, iid))
    return iid


def _has_wait(app: DaprApp, iid: str) -> bool:
    return any(e.event_type.value == "timerCreated" for e in app.client.get_workflow_history(iid))


def finished_order(app: DaprApp, amount: int = 20) -> str:
    iid = waiting_order(app, amount)
    app.client.raise_workflow_event(iid, "approval", data=APPROVAL)
    state = app.client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
    assert state.runtime_status.name == "COMPLETED"
    return iid


def kinds(conn: wfkit.Connection, iid: str) -> list[str]:
    return list(conn.history(iid, refresh=False)["kind"])


# --------------------------------------------------------------------------- reading
def test_state_and_full_history_with_payloads_land_in_the_store(
    app: DaprApp, conn: wfkit.Connection
) -> None:
    iid = finished_order(app, 20)
    state = conn.get_workflow_state(iid)
    assert state is not None
    assert state.runtime_status is wfkit.WorkflowStatus.COMPLETED
    assert state.name == "connect_order"
    assert state.serialized_input == "20"
    assert state.serialized_output is not None and '"total": 41' in state.serialized_output

    frame = conn.history(iid)
    assert [k for k in frame["kind"] if k != "WorkflowStarted"] == [
        "ExecutionStarted",
        "TaskScheduled",
        "TaskCompleted",
        "TimerCreated",
        "EventRaised",
        "TimerCreated",
        "TimerFired",
        "ExecutionCompleted",
    ]
    assert list(frame["seq"]) == list(range(len(frame)))
    # payloads come over gRPC, unlike Dapr's client history
    completed = conn.sql(
        "SELECT payload FROM history WHERE instance_id = ? AND kind = 'TaskCompleted'", [iid]
    )
    assert list(completed["payload"]) == ["40"]
    raised = conn.sql(
        "SELECT name, payload FROM history WHERE instance_id = ? AND kind = 'EventRaised'", [iid]
    )
    assert raised["name"][0] == "approval" and '"ada"' in raised["payload"][0]
    tasks = conn.sql("SELECT name, outcome FROM tasks WHERE instance_id = ?", [iid])
    assert list(tasks["name"]) == ["connect_double"]
    # Dapr's client's shape of the same history
    types = [e.event_type.value for e in conn.get_workflow_history(iid)]
    assert types[-1] == "executionCompleted" and "eventRaised" in types


def test_refresh_reads_only_changed_instances_and_appends_only_new_events(
    app: DaprApp, conn: wfkit.Connection
) -> None:
    done = finished_order(app)
    iid = waiting_order(app)
    first = conn.refresh([done, iid])
    assert first.instances == 2 and first.events > 0
    before = conn.history(iid, refresh=False)
    again = conn.refresh([done, iid])
    assert (again.instances, again.events) == (0, 0)  # nothing changed on the engine

    conn.raise_workflow_event(iid, "approval", data=APPROVAL)
    conn.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
    report = conn.refresh([done, iid])
    after = conn.history(iid, refresh=False)
    assert report.instances == 1  # only the instance that changed was read
    assert report.events == len(after) - len(before) > 0
    # the events already copied are the same rows, unchanged
    assert after.iloc[: len(before)][["seq", "kind", "ts"]].equals(before[["seq", "kind", "ts"]])
    assert after["kind"].iloc[-1] == "ExecutionCompleted"


def test_list_instances_filters_by_status_name_and_creation_time(
    app: DaprApp, conn: wfkit.Connection
) -> None:
    since = datetime.utcnow() - timedelta(seconds=1)
    done = finished_order(app)
    running = waiting_order(app)
    chain = app.client.schedule_new_workflow(connect_chain, input=3)
    app.client.wait_for_workflow_completion(chain, timeout_in_seconds=WAIT)

    def ids(**filters: Any) -> set[str]:
        return {s.instance_id for s in conn.list_instances(created_after=since, **filters)}

    assert {done, running, chain} <= ids()
    assert running in ids(status="RUNNING") and done not in ids(status="RUNNING")
    assert ids(status=wfkit.WorkflowStatus.COMPLETED) >= {done, chain}
    assert running not in ids(status=wfkit.WorkflowStatus.COMPLETED)
    assert chain in ids(name=connect_chain) and done not in ids(name="connect_chain")
    assert ids(name=["connect_order"], status=["COMPLETED"]) >= {done}
    assert not ids(created_before=since)
    frame = conn.instances(name=connect_order, created_after=since)
    assert {done, running} <= set(frame["instance_id"]) and chain not in set(frame["instance_id"])
    with pytest.raises(ValueError, match="status must be"):
        conn.list_instances(status="SLEEPING")
    page = conn.list_workflow_instance_ids()
    assert {done, running, chain} <= set(page.instance_ids)


# --------------------------------------------------------------------------- acting
def test_events_pause_resume_terminate_and_purge_through_the_client_api(
    app: DaprApp, conn: wfkit.Connection
) -> None:
    iid = waiting_order(app)
    conn.pause_workflow(iid)
    until(lambda: conn.get_workflow_state(iid).runtime_status.name == "SUSPENDED")
    conn.resume_workflow(iid)
    until(lambda: conn.get_workflow_state(iid).runtime_status.name == "RUNNING")
    conn.raise_workflow_event(iid, "approval", data=APPROVAL)
    state = conn.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
    assert state.runtime_status.name == "COMPLETED"
    conn.refresh([iid])
    assert {"ExecutionSuspended", "ExecutionResumed"} <= set(kinds(conn, iid))
    with pytest.raises(wfkit.InvalidInstanceStateError, match="already finished"):
        conn.terminate_workflow(iid)

    other = waiting_order(app)
    conn.terminate_workflow(other, output="stopped")
    state = conn.wait_for_workflow_completion(other, timeout_in_seconds=WAIT)
    assert state.runtime_status.name == "TERMINATED"
    conn.refresh([other])
    assert conn.store.record(other) is not None
    assert conn.purge_workflow(other) == 1
    assert conn.get_workflow_state(other) is None
    assert conn.store.record(other) is None  # the purge reached the local copy too
    with pytest.raises(wfkit.InstanceNotFoundError, match="never scheduled, or purged"):
        conn.raise_workflow_event(other, "approval")
    with pytest.raises(wfkit.InstanceNotFoundError):
        conn.history(other)


# --------------------------------------------------------------------------- widgets
def _follow_threads(iid: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"wfkit-follow-{iid}"]


def test_watch_follows_the_instance_live_and_its_events_panel_raises_events(
    app: DaprApp, conn: wfkit.Connection
) -> None:
    iid = waiting_order(app, 5)
    view = conn.watch(iid, interval=0.1)
    try:
        assert view.status is not None
        until(
            lambda: view.status.state == "polling" and "wfkit-follow-polling" in view.status.value
        )

        def node(kind: str) -> dict[str, Any]:
            nodes = view.graph.graph.get("nodes", [])
            return next((n for n in nodes if n.get("kind") == kind), {})

        until(lambda: node("event"))
        assert node("activity")["status"] == "completed" and node("activity")["output"] == "10"
        assert node("event")["status"] == "waiting"
        # the events panel knows what the instance waits for, and raises it on the engine
        panel = view.clock
        until(lambda: panel.event_name.value == "approval")
        assert panel.instance.value == iid
        panel.payload.value = '{"by": "grace", "extra": 2}'
        panel.raise_button.click()
        until(lambda: "raised 'approval'" in panel.message.value)
        until(lambda: view.status.state == "finished")
        until(lambda: "wfkit-follow-finished" in view.status.value)
        assert "COMPLETED" in view.status.value
        until(lambda: node("end").get("status") == "completed")
        until(lambda: not _follow_threads(iid))  # polling stopped with the instance
        count = len(conn.history(iid, refresh=False))
        until(lambda: view.history.total == count)  # the history table follows too
        output = conn.get_workflow_state(iid).serialized_output
        assert output is not None and '"grace"' in output
        assert not hub_for(conn._engine).errors
    finally:
        view.close()


def test_watching_a_parent_follows_its_child_workflows(
    app: DaprApp, conn: wfkit.Connection
) -> None:
    parent = app.client.schedule_new_workflow(connect_parent, input=4)
    view = conn.watch(parent, interval=0.1)
    try:
        # the child is copied while it runs, so its own progress shows without a refresh
        child = None

        def child_waits() -> bool:
            nonlocal child
            rows = conn.instances(refresh=False)
            ids = [i for i in rows["instance_id"] if i != parent and i.startswith(parent)]
            child = ids[0] if ids else None
            return child is not None and "TimerCreated" in kinds(conn, child)

        until(child_waits)
        assert child is not None
        app.client.raise_workflow_event(child, "approval", data=APPROVAL)
        until(lambda: view.status.state == "finished")
        rows = conn.instances(refresh=False).set_index("instance_id")
        assert rows.loc[child, "status"] == "COMPLETED"  # copied by the polling, not a refresh
        assert "ExecutionCompleted" in kinds(conn, child)
        until(lambda: not _follow_threads(parent))
    finally:
        view.close()


def test_closing_the_widget_stops_polling(app: DaprApp, conn: wfkit.Connection) -> None:
    iid = waiting_order(app)
    view = conn.watch(iid, interval=0.1)
    until(lambda: _follow_threads(iid))
    view.close()
    until(lambda: not _follow_threads(iid), timeout=5)
    assert conn._engine.follow_state(iid).state == "stopped"
    app.client.terminate_workflow(iid)


def test_the_dashboard_shows_the_engine_instances(app: DaprApp, conn: wfkit.Connection) -> None:
    done = finished_order(app)
    board = conn.dashboard()  # refreshes, then draws
    try:
        rows = board.data.set_index("instance_id")
        assert rows.loc[done, "status"] == "COMPLETED"
        assert rows.loc[done, "workflow"] == "connect_order"
    finally:
        board.close()


def test_dashboard_data_and_waits_read_the_engine(app: DaprApp, conn: wfkit.Connection) -> None:
    iid = waiting_order(app)
    conn.refresh()
    data = dashboard_data(conn._engine.records())  # what conn.dashboard() draws
    assert data.set_index("instance_id").loc[iid, "status"] == "RUNNING"
    assert isinstance(conn._engine, PolledEngine)  # the widgets' interface, polled
    assert conn._engine.waiting_for_events(iid) == ["approval"]
    assert conn._engine.executing(iid) == set()
    app.client.terminate_workflow(iid)


# --------------------------------------------------------------------------- time travel
def test_cursor_steps_through_an_engine_instance_with_locals_and_lines(
    app: DaprApp, conn: wfkit.Connection
) -> None:
    iid = finished_order(app, 7)
    conn.refresh([iid])
    cursor = timetravel.open_cursor(conn, iid, workflow=connect_order)
    frames = list(cursor)
    assert len(frames) == len(conn.history(iid, refresh=False))
    raised = next(f for f in frames if f.event.kind == "EventRaised")
    assert raised.locals["doubled"] == 14
    assert raised.locals["approval"] == APPROVAL
    source = cursor.source(raised)
    assert source is not None and "create_timer" in (source.line(raised.line) or "")
    assert frames[-1].locals["total"] == 15
    # without code given, the connection's registered code is used
    assert timetravel.open_cursor(conn, iid).last().locals["total"] == 15
    # and the timeline's bars come from the same replay
    bars = timeline_rows(open_view(conn, iid))
    assert [b["kind"] for b in bars if b["kind"] == "activity"] == ["activity"]
    assert all(b["end"] is not None for b in bars)


def test_determinism_check_runs_edited_code_against_engine_histories(
    app: DaprApp, conn: wfkit.Connection, tmp_path: Path
) -> None:
    iid = finished_order(app)
    assert timetravel.check_replay(conn, connect_order, instance_id=iid)

    def connect_order_edited(ctx: Any, amount: int):  # an extra step before the wait
        doubled = yield ctx.call_activity("connect_double", input=amount)
        doubled += yield ctx.call_activity("connect_double", input=1)
        approval = yield ctx.wait_for_external_event("approval")
        return doubled + approval["extra"]

    result = timetravel.check_replay(conn, connect_order_edited, instance_id=iid)
    assert not result
    assert result.divergence is not None and result.divergence.index > 0
    # the bridge to CI: save the engine's histories, check them as files
    path = timetravel.save_history(conn, iid, tmp_path)
    assert path.exists()
    results = timetravel.check_histories(tmp_path, {"connect_order": connect_order_edited})
    assert [bool(r) for r in results] == [False]
    assert timetravel.check_histories(tmp_path, {"connect_order": connect_order})[0]


def test_a_fork_of_an_engine_instance_is_refused_with_what_works(
    app: DaprApp, conn: wfkit.Connection
) -> None:
    iid = finished_order(app)
    with pytest.raises(wfkit.EngineError, match="check_replay"):
        timetravel.fork(conn, iid, at=1)


def test_replay_without_registered_code_says_how_to_give_it(app: DaprApp) -> None:
    iid = finished_order(app)
    with wfkit.connect(app.sidecar.address) as bare:
        bare.refresh([iid])
        with pytest.raises(wfkit.WorkflowNotRegisteredError, match="register_workflow"):
            timetravel.open_cursor(bare, iid)


# --------------------------------------------------------------------------- stores
def test_a_file_store_keeps_the_copy_across_connections(app: DaprApp, tmp_path: Path) -> None:
    iid = finished_order(app)
    path = tmp_path / "engine.duckdb"
    with wfkit.connect(app.sidecar.address, store=str(path)) as first:
        assert first.refresh([iid]).events > 0
        count = len(first.history(iid, refresh=False))
        first.store.close()
    with wfkit.connect(app.sidecar.address, store=str(path)) as second:
        assert second.refresh([iid]) == wfkit.interop.connect.SyncReport(0, 0, 0)
        assert len(second.history(iid, refresh=False)) == count
