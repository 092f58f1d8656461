"""The widgets' Python side after scripted runs: graph nodes, groups, statuses and counts,
the synced state of the widgets, table pages, timeline rows and the dashboard's data."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

import wfkit as wf
import wfkit.timetravel
import wfkit.widgets
from wfkit.core._history import EVENT_TYPES
from wfkit.inspect._replay import source_for
from wfkit.timetravel import DivergenceView, Player
from wfkit.widgets import (
    ClockPanel,
    GraphWidget,
    HistoryTable,
    ReplayedInstance,
    dashboard,
    dashboard_data,
    graph_model,
    history_page,
    layout,
    node_detail,
    timeline,
    timeline_rows,
    watch,
)
from wfkit.widgets._clock_panel import parse_duration, parse_payload
from wfkit.widgets._dashboard import DashboardPanel, summary
from wfkit.widgets._progress import ProgressBar
from wfkit.widgets._watch import FollowStatus, TimelineButton

START = datetime(2025, 1, 1)
WAIT = 10


def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def make_runtime(store: str = ":memory:", auto_skip: bool = True) -> wf.WorkflowRuntime:
    wfr = wf.WorkflowRuntime(
        clock=wf.VirtualClock(START, auto_skip=auto_skip, flow=False), store=store
    )
    calls: dict[int, int] = {}
    gate = threading.Event()
    wfr.gate = gate  # type: ignore[attr-defined]

    @wfr.activity
    def double(ctx: Any, x: int) -> int:
        return 2 * x

    @wfr.activity
    def flaky(ctx: Any, x: int) -> int:
        calls[x] = calls.get(x, 0) + 1
        if calls[x] < 3:
            raise ConnectionError(f"attempt {calls[x]} failed")
        return x

    @wfr.activity
    def gated(ctx: Any, x: int) -> int:
        gate.wait(WAIT)
        return x

    @wfr.workflow
    def fan_out(ctx: Any, n: int) -> Any:
        results = yield wf.when_all([ctx.call_activity(double, input=i) for i in range(n)])
        return sum(results)

    @wfr.workflow
    def order(ctx: Any, n: int) -> Any:
        first = yield ctx.call_activity(double, input=n)
        policy = wf.RetryPolicy(first_retry_interval=timedelta(minutes=1), max_number_of_attempts=5)
        checked = yield ctx.call_activity(flaky, input=n, retry_policy=policy)
        approval = ctx.wait_for_external_event("approval")
        yield wf.when_any([approval, ctx.create_timer(timedelta(hours=1))])
        with contextlib.suppress(TimeoutError):
            yield ctx.wait_for_external_event("late", timeout=timedelta(minutes=5))
        shipped = yield ctx.call_child_workflow(fan_out, input=3)
        return first + checked + shipped

    @wfr.workflow
    def gated_flow(ctx: Any, x: int) -> Any:
        value = yield ctx.call_activity(gated, input=x)
        yield ctx.create_timer(timedelta(hours=2))
        decision = yield ctx.wait_for_external_event("approval")
        return [value, decision]

    @wfr.workflow
    def retrying(ctx: Any, n: int) -> Any:
        policy = wf.RetryPolicy(first_retry_interval=timedelta(hours=1), max_number_of_attempts=5)
        return (yield ctx.call_activity(flaky, input=n, retry_policy=policy))

    wfr.start()
    return wfr


@pytest.fixture(params=["memory", "duckdb"])
def runtime(request: pytest.FixtureRequest) -> Iterator[wf.WorkflowRuntime]:
    wfr = make_runtime("memory" if request.param == "memory" else ":memory:")
    try:
        yield wfr
    finally:
        wfr.gate.set()  # type: ignore[attr-defined]
        wfr.shutdown()


@pytest.fixture
def manual() -> Iterator[wf.WorkflowRuntime]:
    """A runtime whose clock moves only when told (no auto-skip)."""
    wfr = make_runtime("memory", auto_skip=False)
    try:
        yield wfr
    finally:
        wfr.gate.set()  # type: ignore[attr-defined]
        wfr.shutdown()


def live_view(wfr: wf.WorkflowRuntime, instance_id: str) -> ReplayedInstance:
    """A view of a running instance as the live graph makes it: the engine's executor."""
    engine = wfr._engine
    view = ReplayedInstance(
        instance_id,
        engine.registry.workflow,
        orchestration=engine.orchestration(instance_id),
        source=source_for(engine.committed_store(), instance_id),
    )
    view.update()
    return view


def run(wfr: wf.WorkflowRuntime, workflow: str, value: Any, instance_id: str) -> None:
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(workflow, input=value, instance_id=instance_id)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=WAIT)
    assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED


def model(wfr: wf.WorkflowRuntime, instance_id: str, **kwargs: Any) -> dict[str, Any]:
    engine = wfr._engine
    view = ReplayedInstance(
        instance_id, engine.registry.workflow, source=source_for(engine.store, instance_id)
    )
    view.update()
    return graph_model(view, record=engine.record(instance_id), **kwargs)


def by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in graph["nodes"]}


# ---------------------------------------------------------------------------- graph model
def test_fan_out_nodes_group_and_edges(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "fan_out", 5, "fan-5")
    graph = model(runtime, "fan-5")
    assert graph["steps"] == ["start", "g0", "end"]
    activities = [n for n in graph["nodes"] if n["kind"] == "activity"]
    assert [n["status"] for n in activities] == ["completed"] * 5
    assert [n["input"] for n in activities] == ["0", "1", "2", "3", "4"]
    assert [n["output"] for n in activities] == ["0", "2", "4", "6", "8"]
    (group,) = graph["groups"]
    assert group["mode"] == "all" and group["size"] == 5 and not group["collapsed"]
    assert group["counts"] == {"completed": 5} and group["progress"] == 1.0
    assert group["children"] == [n["id"] for n in activities]
    assert graph["counts"] == {"completed": 5}
    kinds = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert ("start", "g0", "next") in kinds and ("g0", "end", "next") in kinds
    assert all(("g0", n["id"], "fork") in kinds for n in activities)
    end = by_id(graph)["end"]
    assert end["status"] == "completed" and end["output"] == "20"
    json.dumps(graph)  # JSON-safe


def test_large_fan_out_is_one_group_with_counts_and_pages(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "fan_out", 250, "fan-250")
    graph = model(runtime, "fan-250")
    (group,) = graph["groups"]
    assert group["collapsed"] and group["children"] == []
    assert group["counts"] == {"completed": 250} and group["done"] == 250
    assert group["pages"] == 3
    assert [n["kind"] for n in graph["nodes"]] == ["start", "end"]
    assert graph["counts"] == {"completed": 250}
    page = model(runtime, "fan-250", expanded={"g0": 2})
    (group,) = page["groups"]
    assert not group["collapsed"] and group["page"] == 2 and len(group["children"]) == 50
    assert group["counts"] == {"completed": 250}
    assert len([n for n in page["nodes"] if n["kind"] == "activity"]) == 50
    first = model(runtime, "fan-250", expanded={"g0": 0}, page_size=100)
    assert len(first["groups"][0]["children"]) == 100


def test_retries_when_any_timeout_and_child(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "order", 7, "order-1")
    graph = model(runtime, "order-1")
    nodes = by_id(graph)
    flaky = next(n for n in nodes.values() if n["name"] == "flaky")
    assert flaky["status"] == "completed" and flaky["attempts"] == 3
    assert flaky["label"] == "completed (attempt 3)"
    approval = next(n for n in nodes.values() if n["name"] == "approval")
    assert approval["status"] == "cancelled"  # lost the when_any to the timer
    timer = next(n for n in nodes.values() if n["kind"] == "timer")
    assert timer["status"] == "completed" and timer["label"] == "fired"
    late = next(n for n in nodes.values() if n["name"] == "late")
    assert late["status"] == "timed out"
    child = next(n for n in nodes.values() if n["kind"] == "child")
    assert child["status"] == "completed" and child["child_instance_id"].startswith("order-1:")
    any_group = next(g for g in graph["groups"] if g["mode"] == "any")
    assert any_group["counts"] == {"completed": 1, "cancelled": 1}
    assert graph["counts"] == {"completed": 4, "timed out": 1, "cancelled": 1}
    # retry timers and event-wait timers are part of their nodes, not nodes of their own
    assert [n["kind"] for n in graph["nodes"]].count("timer") == 1
    # details: each attempt, with its error
    engine = runtime._engine
    view = ReplayedInstance(
        "order-1", engine.registry.workflow, source=source_for(engine.store, "order-1")
    )
    view.update()
    detail = node_detail(view, flaky["id"])
    assert detail is not None and detail["attempt_count"] == 3
    assert [a["status"] for a in detail["attempts"]] == ["failed", "failed", "completed"]
    assert detail["attempts"][0]["error"]["type"] == "ConnectionError"
    assert detail["input"] == "7" and detail["output"] == "7"
    assert detail["attempts"][1]["scheduled_at"] == "2025-01-01T00:01:00"
    start = node_detail(view, "start")
    assert start is not None and start["input"] == "7"


def test_live_statuses(manual: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(manual)
    client.schedule_new_workflow("gated_flow", input=1, instance_id="g-1")
    engine = manual._engine
    view = ReplayedInstance("g-1", engine.registry.workflow, source=source_for(engine.store, "g-1"))

    def graph() -> dict[str, Any]:
        live = engine.orchestration("g-1")
        if live is not None and live is not view.orchestration:
            view.reset(live)
        view.update()
        return graph_model(view, record=engine.record("g-1"), executing=engine.executing("g-1"))

    until(lambda: bool(engine.executing("g-1")))
    assert [n["status"] for n in graph()["nodes"]] == ["completed", "running"]
    assert "end" not in graph()["steps"]
    manual.gate.set()  # type: ignore[attr-defined]
    until(lambda: manual.clock.pending_timers() != [])
    assert [(n["kind"], n["status"]) for n in graph()["nodes"]][1:] == [
        ("activity", "completed"),
        ("timer", "waiting"),
    ]
    manual.clock.advance_to_next_timer()
    until(lambda: engine.waiting_for_events("g-1") == ["approval"])
    assert graph()["nodes"][-1]["status"] == "waiting"
    client.raise_workflow_event("g-1", "approval", data={"ok": True})
    client.wait_for_workflow_completion("g-1", timeout_in_seconds=WAIT)
    final = graph()
    assert final["nodes"][-2]["output"] == '{"ok": true}'
    assert final["nodes"][-1]["kind"] == "end"


def test_retrying_status_while_waiting_for_the_next_attempt(manual: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(manual)
    client.schedule_new_workflow("retrying", input=5, instance_id="r-1")
    until(lambda: len(manual.clock.pending_timers()) == 1)
    graph = GraphWidget(manual, "r-1", live=False)
    node = graph.graph["nodes"][1]
    assert node["status"] == "retrying" and node["label"] == "retrying (attempt 2)"
    manual.clock.advance_to_next_timer()
    until(lambda: len(manual.clock.pending_timers()) == 1)
    manual.clock.advance_to_next_timer()
    client.wait_for_workflow_completion("r-1", timeout_in_seconds=WAIT)
    graph.refresh()
    assert graph.graph["nodes"][1]["label"] == "completed (attempt 3)"
    graph.close()


def test_layout_gives_every_drawn_item_a_box() -> None:
    graph = {
        "steps": ["start", "g0"],
        "nodes": [{"id": "start"}, {"id": "t0"}, {"id": "t1"}],
        "groups": [{"id": "g0", "collapsed": False, "children": ["t0", "t1"], "pages": 1}],
        "edges": [
            {"from": "start", "to": "g0", "kind": "next"},
            {"from": "g0", "to": "t0", "kind": "fork"},
            {"from": "t1", "to": "g0", "kind": "join"},
        ],
    }
    laid = layout(graph)
    boxes = {n["id"]: n for n in laid["nodes"]} | {g["id"]: g for g in laid["groups"]}
    t0, t1, g0 = boxes["t0"], boxes["t1"], boxes["g0"]
    assert t0["y"] == t1["y"] and t0["x"] + t0["w"] < t1["x"]  # side by side
    assert g0["x"] <= t0["x"] and t1["x"] + t1["w"] <= g0["x"] + g0["w"]  # inside the group
    assert boxes["start"]["y"] + boxes["start"]["h"] < g0["y"]  # steps top to bottom
    assert all("points" in e for e in laid["edges"])
    assert laid["width"] >= g0["w"] and laid["height"] > g0["y"] + g0["h"]


# ---------------------------------------------------------------------------- GraphWidget
def test_graph_widget_state_messages_and_child_navigation(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "order", 3, "order-2")
    graph = GraphWidget(runtime, "order-2", live=False)
    state = graph.graph
    assert state["instance"]["status"] == "COMPLETED"
    assert all({"x", "y", "w", "h"} <= set(n) for n in state["nodes"])
    flaky = next(n for n in state["nodes"] if n["name"] == "flaky")
    graph._on_msg(graph, {"type": "select", "id": flaky["id"]}, [])
    assert graph.selected == flaky["id"] and len(graph.detail["attempts"]) == 3
    child = next(n for n in state["nodes"] if n["kind"] == "child")
    graph._on_msg(graph, {"type": "open", "instance_id": child["child_instance_id"]}, [])
    assert graph.instance_id == child["child_instance_id"] and graph.trail == ["order-2"]
    assert graph.detail == {} and graph.selected == ""
    assert [n["status"] for n in graph.graph["nodes"] if n["kind"] == "activity"] == [
        "completed"
    ] * 3
    graph._on_msg(graph, {"type": "back"}, [])
    assert graph.instance_id == "order-2" and graph.trail == []
    graph.close()


def test_graph_widget_expands_and_collapses_a_large_fan_out(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "fan_out", 150, "fan-150")
    graph = GraphWidget(runtime, "fan-150", live=False)
    assert graph.graph["groups"][0]["collapsed"]
    graph._on_msg(graph, {"type": "expand", "id": "g0", "page": 1}, [])
    assert len(graph.graph["groups"][0]["children"]) == 50
    graph._on_msg(graph, {"type": "collapse", "id": "g0"}, [])
    assert graph.graph["groups"][0]["collapsed"]
    graph.close()


def test_graph_widget_updates_live_and_in_few_messages(manual: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(manual)
    client.schedule_new_workflow("fan_out", input=2000, instance_id="big")
    graph = GraphWidget(manual, "big")  # refreshed by the hub's thread from now on
    client.wait_for_workflow_completion("big", timeout_in_seconds=WAIT)
    until(lambda: graph.graph.get("instance", {}).get("status") == "COMPLETED")
    group = graph.graph["groups"][0]
    assert group["collapsed"] and group["counts"] == {"completed": 2000}
    # thousands of events, a handful of updates: at most one per refresh tick
    assert graph.updates <= 2 + 4 * 10
    assert graph.update_bytes < 50_000
    graph.close()


def counting_history_reads(wfr: wf.WorkflowRuntime) -> list[str]:
    """Record every history read (``history``, ``sql``, an index or payloads) made from the
    runtime's store."""
    store = wfr._engine.store
    reads: list[str] = []
    for name in ("history", "sql", "history_index", "history_payloads"):
        original = getattr(store, name, None)
        if original is not None:

            def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
                reads.append(_name)
                return _original(*args, **kw)

            setattr(store, name, counted)
    return reads


def comparable(graph: dict[str, Any]) -> dict[str, Any]:
    graph = json.loads(json.dumps(graph))
    for node in graph["nodes"]:
        node.pop("wall_ms", None)
    return graph


def test_live_graph_is_fed_by_the_engine_not_the_store(runtime: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(runtime)
    client.schedule_new_workflow("order", input=5, instance_id="fed")
    reads = counting_history_reads(runtime)
    graph = GraphWidget(runtime, "fed", group_limit=2)
    client.wait_for_workflow_completion("fed", timeout_in_seconds=WAIT)
    # the first drawing comes from the refresh thread: the graph may still be empty
    until(lambda: graph.graph.get("instance", {}).get("status") == "COMPLETED")
    flaky = next(n for n in graph.graph["nodes"] if n["name"] == "flaky")
    graph._on_msg(graph, {"type": "select", "id": flaky["id"]}, [])
    assert [a["status"] for a in graph.detail["attempts"]] == ["failed", "failed", "completed"]
    # the history is read at most once, for the events committed before the widget came
    # (none if the engine had not run the instance yet): no read, no flush of a DuckDB
    # store while it ran; details too come from the events the engine handed over
    assert reads in ([], ["history"])
    fresh = GraphWidget(runtime, "fed", group_limit=2, live=False)
    assert comparable(graph.graph) == comparable(fresh.graph)
    graph.close()
    fresh.close()


def test_live_graph_follows_a_history_that_starts_over(runtime: wf.WorkflowRuntime) -> None:
    @runtime.workflow
    def looping(ctx: Any, k: int) -> Any:
        yield wf.when_all([ctx.call_activity("double", input=i) for i in range(120)])
        yield ctx.create_timer(timedelta(seconds=1))
        if k < 3:
            ctx.continue_as_new(k + 1)
            return None
        return k

    client = wf.DaprWorkflowClient(runtime)
    client.schedule_new_workflow("looping", input=0, instance_id="loop")
    graph = GraphWidget(runtime, "loop")
    client.wait_for_workflow_completion("loop", timeout_in_seconds=WAIT)
    until(lambda: graph.graph.get("instance", {}).get("status") == "COMPLETED")
    fresh = GraphWidget(runtime, "loop", live=False)
    assert comparable(graph.graph) == comparable(fresh.graph)
    assert graph.graph["groups"][0]["counts"] == {"completed": 120}
    assert graph._hub is not None and graph._hub.errors == []
    graph.close()
    fresh.close()


def test_large_group_counts_follow_retries_live(manual: wf.WorkflowRuntime) -> None:
    @manual.workflow
    def retried(ctx: Any, n: int) -> Any:
        policy = wf.RetryPolicy(first_retry_interval=timedelta(hours=1), max_number_of_attempts=5)
        calls = [ctx.call_activity("flaky", input=i, retry_policy=policy) for i in range(n)]
        timers = [ctx.create_timer(timedelta(minutes=30 * (i + 1))) for i in range(4)]
        yield wf.when_all(calls + timers)
        return n

    client = wf.DaprWorkflowClient(manual)
    client.schedule_new_workflow("retried", input=150, instance_id="rr")
    graph = GraphWidget(manual, "rr")

    def group() -> dict[str, Any]:
        return (graph.graph.get("groups") or [{}])[0]  # none until the live graph catches up

    def settled(counts: dict[str, int]) -> None:
        until(lambda: group().get("counts") == counts)
        fresh = GraphWidget(manual, "rr", live=False)  # counted from scratch
        assert fresh.graph["groups"][0]["counts"] == counts
        fresh.close()

    until(lambda: len(manual.clock.pending_timers()) == 154)
    settled({"retrying": 150, "waiting": 4})
    manual.clock.advance(timedelta(minutes=45))
    settled({"retrying": 150, "waiting": 3, "completed": 1})
    manual.clock.advance(timedelta(hours=1))  # second attempts fail: a third is due
    until(lambda: len(manual.clock.pending_timers()) == 151)
    settled({"retrying": 150, "waiting": 1, "completed": 3})
    manual.clock.advance(timedelta(hours=3))
    client.wait_for_workflow_completion("rr", timeout_in_seconds=WAIT)
    settled({"completed": 154})
    assert group()["status"] == "completed"
    graph.close()


def test_group_counts_agree_with_the_statuses_of_the_nodes(manual: wf.WorkflowRuntime) -> None:
    @manual.workflow
    def mixed(ctx: Any, sizes: list[int]) -> Any:
        n, gated = sizes
        policy = wf.RetryPolicy(first_retry_interval=timedelta(hours=1), max_number_of_attempts=5)
        tasks = [ctx.call_activity("double", input=i) for i in range(n)]
        tasks += [ctx.call_activity("flaky", input=i, retry_policy=policy) for i in range(n)]
        tasks += [ctx.call_activity("gated", input=i) for i in range(gated)]
        tasks += [ctx.create_timer(timedelta(minutes=i + 1)) for i in range(3)]
        tasks.append(ctx.wait_for_external_event("go"))
        yield wf.when_all(tasks)
        return n

    client = wf.DaprWorkflowClient(manual)
    engine = manual._engine
    workers = engine._max_workers  # every worker blocked in "gated", three calls queued
    client.schedule_new_workflow("mixed", input=[60, workers + 3], instance_id="mix")
    until(
        lambda: len(manual.clock.pending_timers()) == 63 and len(engine.executing("mix")) == workers
    )
    view = live_view(manual, "mix")

    def build(**kwargs: Any) -> dict[str, Any]:
        record, executing = engine.record("mix"), engine.executing("mix")
        return graph_model(view, record=record, executing=executing, **kwargs)

    each = build(group_limit=1000)  # every member drawn, its status read on its own
    expected = {"completed": 60, "retrying": 60, "running": workers, "scheduled": 3, "waiting": 4}
    assert each["groups"][0]["counts"] == expected
    nodes = [n["status"] for n in each["nodes"] if n["id"].startswith("t")]
    assert sorted(nodes) == sorted(s for s, n in expected.items() for _ in range(n))
    kept = build(group_limit=10)  # one node, counts kept across builds
    assert kept["groups"][0]["counts"] == expected and kept["counts"] == each["counts"]
    size = 127 + workers
    paged = build(group_limit=10, page_size=10, expanded={"g0": size // 10})  # the last page
    assert paged["groups"][0]["counts"] == expected
    shown = [n["status"] for n in paged["nodes"] if n["id"].startswith("t")]
    assert shown == nodes[-(size % 10 or 10) :]
    manual.gate.set()  # type: ignore[attr-defined]
    until(lambda: not engine.executing("mix"))
    manual.clock.advance(timedelta(hours=5))
    client.raise_workflow_event("mix", "go")
    client.wait_for_workflow_completion("mix", timeout_in_seconds=WAIT)
    view.update()
    assert build(group_limit=10)["groups"][0]["counts"] == {"completed": size}


# ---------------------------------------------------------------------------- ClockPanel
def test_parse_duration_and_payload() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("1w 2d") == timedelta(days=9)
    assert parse_duration("250ms") == timedelta(milliseconds=250)
    assert parse_duration("01:30:00") == timedelta(minutes=90)
    assert parse_duration("45") == timedelta(seconds=45)
    for bad in ("", "soon", "5 parsecs", "1h and then some"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_payload("") is None
    assert parse_payload('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(ValueError):
        parse_payload("{bad")


def click(panel: ClockPanel, button: Any, message: str) -> None:
    panel.message.value = ""
    button.click()
    until(lambda: message in panel.message.value)


def test_clock_panel_moves_time_and_raises_events(manual: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(manual)
    manual.gate.set()  # type: ignore[attr-defined]
    client.schedule_new_workflow("gated_flow", input=1, instance_id="p-1")
    until(lambda: manual.clock.pending_timers() != [])
    panel = ClockPanel(manual, "p-1", live=False)
    assert "2025-01-01 00:00:00" in panel.time_label.value
    assert "p-1" in panel.timers.value and "2025-01-01 02:00:00" in panel.timers.value
    assert not panel.next_button.disabled
    click(panel, panel.next_button, "advanced to 2025-01-01 02:00:00")
    until(lambda: manual._engine.waiting_for_events("p-1") == ["approval"])
    panel.refresh()
    assert panel.event_name.value == "approval"  # pre-filled with what the instance waits for
    assert panel.event_name.options == ("approval",)
    assert "no pending timers" in panel.timers.value
    panel.payload.value = '{"ok": tru'
    assert "JSON error" in panel.payload_error.value and panel.raise_button.disabled
    panel.payload.value = '{"ok": true}'
    assert panel.payload_error.value == "" and not panel.raise_button.disabled
    click(panel, panel.raise_button, "raised 'approval' on p-1")
    state = client.wait_for_workflow_completion("p-1", timeout_in_seconds=WAIT)
    assert state is not None and json.loads(state.serialized_output) == [1, {"ok": True}]
    panel.duration.value = "1h30m"
    click(panel, panel.advance_button, "advanced by 1:30:00")
    panel.target.value = "2025-01-02 00:00:00"
    click(panel, panel.advance_to_button, "advanced to 2025-01-02 00:00:00")
    panel.target.value = "2024-01-01 00:00:00"
    click(panel, panel.advance_to_button, "only moves forward")
    panel.auto_skip.value = True
    assert manual.clock.auto_skip is True
    panel.close()


def test_clock_panel_pauses_resumes_and_terminates(manual: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(manual)
    client.schedule_new_workflow("gated_flow", input=1, instance_id="c-1")
    panel = ClockPanel(manual, "c-1", live=False)
    until(lambda: bool(manual._engine.executing("c-1")))
    click(panel, panel.pause_button, "paused c-1")
    assert client.get_workflow_state("c-1").runtime_status is wf.WorkflowStatus.SUSPENDED
    panel.refresh()
    assert panel.pause_button.disabled and not panel.resume_button.disabled
    click(panel, panel.resume_button, "resumed c-1")
    click(panel, panel.terminate_button, "terminated c-1")
    assert client.get_workflow_state("c-1").runtime_status is wf.WorkflowStatus.TERMINATED
    panel.close()


# ---------------------------------------------------------------------------- HistoryTable
def test_history_pages_and_filters(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "fan_out", 30, "h-1")
    run(runtime, "order", 2, "h-2")
    rows, total = history_page(runtime, instance_id="h-1", offset=0, limit=10)
    assert total == len(runtime._engine.store.history("h-1")) and len(rows) == 10
    assert [r["seq"] for r in rows] == list(range(10))
    rows, _ = history_page(runtime, instance_id="h-1", offset=10, limit=10)
    assert [r["seq"] for r in rows] == list(range(10, 20))
    rows, total = history_page(runtime, kind="TaskFailed", limit=10)
    assert total == 2 and {r["instance_id"] for r in rows} == {"h-2"}
    assert json.loads(rows[0]["payload"])["failure"]["error_type"] == "ConnectionError"
    rows, total = history_page(runtime, instance_id="h-1", name="DOUB", limit=5)
    assert total == 30 and all(r["name"] == "double" for r in rows)
    rows, total = history_page(runtime, kind="TimerFired", limit=50)
    assert {r["task_id"] is not None for r in rows} == {True} and total == len(rows)


def test_history_table_widget_pages(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "fan_out", 30, "h-3")
    table = HistoryTable(runtime, "h-3", page_size=10, live=False)
    total = len(runtime._engine.store.history("h-3"))
    assert table.total == total and len(table.rows) == 10
    assert f"rows 1–10 of {total}" in table.page_label.value
    assert table.prev_button.disabled and not table.next_button.disabled
    table.next_button.click()
    assert table.page == 1 and table.rows[0]["seq"] == 10
    assert f"rows 11–20 of {total}" in table.page_label.value
    table.kind.value = "TaskCompleted"
    assert table.page == 0 and table.total == 30
    table.instance.value = ""
    table.kind.value = "ExecutionCompleted"
    assert table.total == 1 and "<details" not in table.table.value
    table.close()


def test_history_payload_cells_expand() -> None:
    from wfkit.widgets._history_table import render_rows

    long = json.dumps({"payload": "x" * 200})
    html = render_rows(
        [
            {
                "instance_id": "i",
                "seq": 0,
                "kind": "TaskScheduled",
                "name": "n",
                "task_id": 1,
                "timestamp": "t",
                "wall_time": "w",
                "payload": long,
            }
        ],
        show_instance=True,
    )
    assert "<details" in html and "<summary>" in html


# ---------------------------------------------------------------------------- timeline
def test_timeline_rows_show_attempts_waits_and_timers(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "order", 4, "t-1")
    engine = runtime._engine
    view = ReplayedInstance("t-1", engine.registry.workflow, source=source_for(engine.store, "t-1"))
    view.update()
    rows = timeline_rows(view)
    flaky = [r for r in rows if r["name"] == "flaky"]
    assert [(r["kind"], r["status"]) for r in flaky] == [
        ("activity", "failed"),
        ("retry wait", "retry wait"),
        ("activity", "failed"),
        ("retry wait", "retry wait"),
        ("activity", "completed"),
    ]
    assert flaky[1]["end"] - flaky[1]["start"] == timedelta(minutes=1)
    timer = next(r for r in rows if r["kind"] == "timer")
    assert timer["end"] - timer["start"] == timedelta(hours=1)
    approval = next(r for r in rows if r["name"] == "approval")
    assert approval["status"] == "cancelled" and approval["start"] == timer["start"]
    late = next(r for r in rows if r["name"] == "late")
    assert late["status"] == "timed out" and late["end"] - late["start"] == timedelta(minutes=5)
    assert any(r["kind"] == "child" and r["status"] == "completed" for r in rows)
    wall = timeline_rows(view, time="wall")
    assert all(r["start"].year > 2025 for r in wall)
    figure = timeline(runtime, "t-1")
    names = {t.name for t in figure.data}
    assert {"completed", "failed", "retry wait", "cancelled"} <= names
    assert "virtual time" in figure.layout.title.text


# ---------------------------------------------------------------------------- dashboard
def test_dashboard_data_and_filters(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "fan_out", 3, "d-1")
    run(runtime, "fan_out", 4, "d-2")
    run(runtime, "order", 1, "d-3")
    data = dashboard_data(runtime._engine.records())
    assert sorted(data.instance_id) == ["d-1", "d-2", "d-3"]  # children left out
    assert len(dashboard_data(runtime._engine.records(), include_children=True)) == 4
    stats = summary(data).set_index("workflow")
    assert stats.loc["fan_out", "instances"] == 2 and stats.loc["order", "success_rate"] == 1.0
    board = dashboard(runtime, live=False)
    assert "3 of 3 instances" in board.list.value
    board.workflow.value = "order"
    assert "1 of 3 instances" in board.list.value and "d-3" in board.list.value
    board.workflow.value = "all"
    board.status.value = "COMPLETED"
    assert "3 of 3 instances" in board.list.value
    # the panel (anywidget): the summary and the list it draws, the filters it sends back
    panel = board.panel
    view = panel.board_view
    assert [r["workflow"] for r in view["summary"]] == ["fan_out", "order"]
    assert view["summary"][0]["instances"] == 2 and view["summary"][1]["success_rate"] == "100%"
    assert panel.controls["workflow"]["options"] == ["all", "fan_out", "order"]
    panel.receive({"type": "choose", "name": "workflow", "index": 1})
    assert board.workflow.value == "fan_out" and panel.controls["workflow"]["value"] == 1
    assert view is not panel.board_view and panel.board_view["note"] == "2 of 3 instances"
    assert {r["instance_id"] for r in panel.board_view["rows"]} == {"d-1", "d-2"}
    assert {r["status"] for r in panel.board_view["rows"]} == {"COMPLETED"}
    board.close()


# ---------------------------------------------------------------------------- watch
def test_watch_shows_the_usual_set(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "fan_out", 3, "w-1")
    view = runtime.watch("w-1")
    assert isinstance(view.graph, GraphWidget) and view.graph.instance_id == "w-1"
    assert isinstance(view.clock, ClockPanel) and isinstance(view.history, HistoryTable)
    assert view.history.instance.value == "w-1"
    assert view.status is None and view.timeline_output.children == ()
    view.timeline_button.click()
    (figure,) = view.timeline_output.children
    assert "w-1" in figure.layout.title.text
    view.timeline_bar.receive({"type": "click", "name": "timeline_button"})  # from the browser
    assert len(view.timeline_output.children) == 1 and figure.layout.title.text
    assert view.timeline_bar.controls["message"]["value"] == ""
    view.close()
    assert type(watch(runtime, "w-1")).__name__ == "Watch"


def test_marimo_shows_the_dashboard_and_watch_as_their_anywidgets(
    runtime: wf.WorkflowRuntime,
) -> None:
    pytest.importorskip("marimo")
    run(runtime, "fan_out", 2, "m-1")
    board = dashboard(runtime, live=False)
    shown = board._display_().text
    assert board.figure.model_id in shown and board.panel.model_id in shown
    board.close()
    view = watch(runtime, "m-1")
    shown = view._display_().text
    parts = (view.graph, view.clock, view.history)
    assert all(part.model_id in shown for part in parts)
    assert view.timeline_bar.model_id not in shown  # its figure would go in a box
    view.close()


def test_importing_wfkit_loads_no_widget_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, wfkit, wfkit.widgets; from wfkit.widgets import graph_model; "
        "print([m for m in ('anywidget', 'ipywidgets', 'plotly') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- front end
def test_panels_follow_the_browsers_messages(runtime: wf.WorkflowRuntime) -> None:
    run(runtime, "fan_out", 30, "m-1")
    table = HistoryTable(runtime, "m-1", page_size=10, live=False)
    assert table.controls["kind"] == {
        "value": 0,
        "options": ["(all)", *EVENT_TYPES],
        "disabled": False,
    }
    table.receive({"type": "click", "name": "next_button"})
    assert table.page == 1 and table.page_view["page"] == 1
    assert [r["seq"] for r in table.page_view["rows"]] == list(range(10, 20))
    table.receive(
        {"type": "choose", "name": "kind", "index": 1 + list(EVENT_TYPES).index("TaskFailed")}
    )
    assert table.kind.value == "TaskFailed" and table.total == 0
    assert table.controls["prev_button"]["disabled"] and table.controls["next_button"]["disabled"]
    table.receive({"type": "choose", "name": "kind", "index": 0})
    table.receive({"type": "input", "name": "name", "value": "DOUB"})
    assert table.page_view["total"] == 30 and table.page_view["page"] == 0
    assert {r["name"] for r in table.page_view["rows"]} == {"double"}
    table.close()
    panel = ClockPanel(runtime, live=False)
    assert panel.clock_view["now"] == str(runtime.clock.now())
    assert panel.clock_view["kind"] == "virtual" and panel.clock_view["timers"] == []
    panel.receive({"type": "check", "name": "auto_skip", "value": False})
    assert runtime.clock.auto_skip is False and panel.controls["auto_skip"]["value"] is False
    panel.receive({"type": "input", "name": "payload", "value": "{bad"})
    assert "JSON error" in panel.controls["payload_error"]["value"]
    assert panel.controls["raise_button"]["disabled"]
    panel.close()


def test_widgets_load_their_bundles_as_files() -> None:
    widgets = pathlib.Path(wfkit.widgets.__file__).parent / "static"
    timetravel = pathlib.Path(wfkit.timetravel.__file__).parent / "static"
    bundles = {
        GraphWidget: widgets / "graph",
        ClockPanel: widgets / "clock_panel",
        HistoryTable: widgets / "history_table",
        DashboardPanel: widgets / "dashboard",
        ProgressBar: widgets / "progress",
        FollowStatus: widgets / "follow_status",
        TimelineButton: widgets / "timeline_button",
        Player: timetravel / "player",
        DivergenceView: timetravel / "player",
    }
    for widget, bundle in bundles.items():
        for asset, suffix in ((widget._esm, ".js"), (widget._css, ".css")):
            assert not isinstance(asset, str), (widget, suffix)  # a file, not text built here
            assert str(asset) == bundle.with_suffix(suffix).read_text(encoding="utf-8")


JS = pathlib.Path(__file__).resolve().parents[2] / "js"


def test_committed_bundles_are_built_from_the_sources(tmp_path: pathlib.Path) -> None:
    # CI installs both (.ci/run): there a missing tool fails instead of skipping
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    node = shutil.which("node")
    if node is None:
        missing("rebuilding the widget bundles needs Node.js (node) on PATH")
    if not (JS / "node_modules" / "esbuild").is_dir():
        missing("rebuilding the widget bundles needs esbuild: make js-deps")
    assert node is not None
    subprocess.run([node, str(JS / "build.mjs"), "--out", str(tmp_path)], check=True)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert built, "the build wrote no bundle"
    repo = JS.parent
    stale = [str(p) for p in built if (repo / p).read_bytes() != (tmp_path / p).read_bytes()]
    assert stale == [], f"bundles differ from their sources (make widgets-js): {stale}"


def test_a_graph_built_again_and_again_agrees_with_a_fresh_one(manual: wf.WorkflowRuntime) -> None:
    """Tasks created before they are awaited are drawn on their own, then in the group
    that awaits them, then new ones appear: each build of one view (which looks again only
    at the tasks still unawaited and the new ones) must draw what a fresh view draws."""

    @manual.workflow
    def staged(ctx: Any, n: int) -> Any:
        early = [ctx.create_timer(timedelta(hours=i + 2)) for i in range(n)]
        yield ctx.create_timer(timedelta(hours=1))
        later = [ctx.create_timer(timedelta(hours=i + 2)) for i in range(3)]
        yield ctx.create_timer(timedelta(minutes=90))
        yield wf.when_all(early)
        yield wf.when_all(later)
        return n

    client = wf.DaprWorkflowClient(manual)
    client.schedule_new_workflow(staged, input=150, instance_id="staged")
    engine = manual._engine
    kept = None
    unawaited = []
    for step in (timedelta(0), timedelta(hours=1), timedelta(minutes=90), timedelta(hours=200)):
        manual.clock.advance(step)
        record = engine.record("staged")
        if kept is None:
            kept = live_view(manual, "staged")
        else:
            kept.update()
        built = graph_model(kept, record=record, group_limit=100, page_size=100)
        fresh = graph_model(
            live_view(manual, "staged"), record=record, group_limit=100, page_size=100
        )
        assert comparable(built) == comparable(fresh)
        unawaited.append(len([n for n in built["nodes"] if n.get("awaited") is False]))
    assert unawaited == [150, 153, 3, 0]  # early, early and later, later, none
    assert client.get_workflow_state("staged").runtime_status is wf.WorkflowStatus.COMPLETED


def test_a_costly_graph_refreshes_seldom_but_draws_the_end_at_once(
    manual: wf.WorkflowRuntime,
) -> None:
    """A live graph spends at most a tenth of the time refreshing (ten times its last
    refresh's cost between two), except that the end of the instance is drawn at once."""
    client = wf.DaprWorkflowClient(manual)
    client.schedule_new_workflow("gated_flow", input=1, instance_id="slow")
    graph = GraphWidget(manual, "slow")
    until(lambda: graph.graph.get("instance", {}).get("status") == "RUNNING")
    for _ in range(10):  # as if each refresh took an hour (a refresh under way sets it back)
        graph._cost, graph._refreshed_at = 3600.0, time.monotonic()
        time.sleep(0.3)
        if graph._cost == 3600.0:
            break
    manual.gate.set()  # type: ignore[attr-defined]  # the activity ends, a timer starts
    until(lambda: graph._dirty)  # the commit is noted
    time.sleep(0.6)  # two ticks of the refresh thread: nothing drawn, the next waits 10 h
    assert graph._dirty and not graph.due()
    manual.clock.advance(timedelta(hours=2))
    client.raise_workflow_event("slow", "approval", data="yes")
    client.wait_for_workflow_completion("slow", timeout_in_seconds=WAIT)
    until(lambda: graph.graph["instance"]["status"] == "COMPLETED")
    graph.close()
