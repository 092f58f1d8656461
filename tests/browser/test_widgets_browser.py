"""The widgets in JupyterLab, in headless Chromium: one notebook, run once, then each
test looks at (and acts on) one cell's output.

Each scenario has its own runtime on a virtual clock, so moving one clock cannot disturb
another scenario's instances.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SETUP = """
import pathlib
import time
import warnings
from datetime import datetime, timedelta

import wfkit as wf
from wfkit.widgets import GraphWidget, HistoryTable, dashboard, timeline

GATE = pathlib.Path("GATE_PATH")


def new_runtime(auto_skip):
    wfr = wf.WorkflowRuntime(
        clock=wf.VirtualClock(datetime(2025, 1, 1), auto_skip=auto_skip, flow=False), store=":memory:"
    )
    calls = {}

    @wfr.activity
    def double(ctx, x):
        return 2 * x

    @wfr.activity
    def flaky(ctx, x):
        calls[x] = calls.get(x, 0) + 1
        if calls[x] < 3:
            raise ConnectionError(f"attempt {calls[x]} failed")
        return x

    @wfr.activity
    def gated(ctx, x):
        while not GATE.exists():
            time.sleep(0.05)
        return x

    @wfr.workflow
    def fan_out(ctx, n):
        results = yield wf.when_all([ctx.call_activity(double, input=i) for i in range(n)])
        return sum(results)

    @wfr.workflow
    def order(ctx, n):
        first = yield ctx.call_activity(double, input=n)
        parts = yield wf.when_all([ctx.call_activity(double, input=i) for i in range(3)])
        policy = wf.RetryPolicy(first_retry_interval=timedelta(minutes=1), max_number_of_attempts=5)
        checked = yield ctx.call_activity(flaky, input=n, retry_policy=policy)
        approval = ctx.wait_for_external_event("approval")
        timeout = ctx.create_timer(timedelta(hours=1))
        yield wf.when_any([approval, timeout])
        shipped = yield ctx.call_child_workflow(fan_out, input=4)
        return first + sum(parts) + checked + shipped

    @wfr.workflow
    def gated_flow(ctx, x):
        return (yield ctx.call_activity(gated, input=x))

    @wfr.workflow
    def reminder(ctx, _):
        yield ctx.create_timer(timedelta(hours=2))
        return (yield ctx.call_activity(double, input=21))

    @wfr.workflow
    def approval_flow(ctx, _):
        decision = yield ctx.wait_for_external_event("approval")
        return decision

    wfr.start()
    return wfr, wf.DaprWorkflowClient(wfr)


wfr1, c1 = new_runtime(auto_skip=True)
for instance_id, workflow, value in [
    ("fan-5", "fan_out", 5), ("fan-150", "fan_out", 150), ("order-1", "order", 7)
]:
    c1.schedule_new_workflow(workflow, input=value, instance_id=instance_id)
    # order-1 takes its approval timeout on purpose: no race warning in the output
    with warnings.catch_warnings(action="ignore", category=wf.WfkitWarning):
        c1.wait_for_workflow_completion(instance_id, timeout_in_seconds=60)
print("ready")
"""

CELLS = {
    "setup": SETUP,
    "fan5": 'GraphWidget(wfr1, "fan-5")',
    "fan150": 'GraphWidget(wfr1, "fan-150")',
    "order": 'GraphWidget(wfr1, "order-1", height=1100)',
    "live": """
wfr2, c2 = new_runtime(auto_skip=False)
c2.schedule_new_workflow("gated_flow", input=1, instance_id="live-1")
GraphWidget(wfr2, "live-1")
""",
    "timer": """
wfr3, c3 = new_runtime(auto_skip=False)
c3.schedule_new_workflow("reminder", instance_id="reminder-1")
wfr3.watch("reminder-1")
""",
    "event": """
wfr4, c4 = new_runtime(auto_skip=False)
c4.schedule_new_workflow("approval_flow", instance_id="approval-1")
wfr4.watch("approval-1")
""",
    "timeline": 'timeline(wfr1, "order-1")',
    "history": 'HistoryTable(wfr1, "fan-150", page_size=10)',
    "dashboard": "dashboard(wfr1)",
    "many": """
wfr5, c5 = new_runtime(auto_skip=True)
states = wf.widgets.run_many(wfr5, [("fan_out", n) for n in range(6)])
""",
}
INDEX = {name: i for i, name in enumerate(CELLS)}


@pytest.fixture(scope="module")
def gate(lab: Any) -> Path:
    return lab.root / "gate"


@pytest.fixture(scope="module")
def nb(run_notebook: Any, gate: Path) -> Any:
    cells = [source.replace("GATE_PATH", str(gate)) for source in CELLS.values()]
    return run_notebook("widgets.ipynb", cells)


def out(nb: Any, name: str) -> Any:
    return nb.output(INDEX[name])


def nodes(scope: Any, **attrs: str) -> Any:
    selector = ".wfkit-node" + "".join(f'[data-{k}="{v}"]' for k, v in attrs.items())
    return scope.locator(selector)


def wait_count(locator: Any, n: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while locator.count() != n:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {n} elements, found {locator.count()}")
        time.sleep(0.1)


def test_notebook_ran(nb: Any) -> None:
    assert "ready" in out(nb, "setup").inner_text()


def test_fan_out_graph_shows_every_task_and_its_status(nb: Any, shoot: Any) -> None:
    graph = out(nb, "fan5").locator(".wfkit-graph")
    graph.wait_for()
    wait_count(nodes(graph, kind="activity"), 5)
    assert nodes(graph, kind="activity", status="completed").count() == 5
    assert nodes(graph, kind="start").count() == 1
    assert nodes(graph, kind="end", status="completed").count() == 1
    group = graph.locator('.wfkit-group[data-size="5"]')
    assert "when_all · 5 tasks" in group.text_content()
    assert "5/5 done" in group.text_content()
    # status is also a text label, not colour alone
    assert "completed" in nodes(graph, kind="activity").first.text_content()
    # click: the node's details
    nodes(graph, kind="activity").first.click()
    detail = graph.locator(".wfkit-graph-detail")
    detail.wait_for()
    assert "output" in detail.inner_text()
    assert "duration (wall)" in detail.inner_text()


def test_large_fan_out_is_one_group_node(nb: Any, shoot: Any) -> None:
    graph = out(nb, "fan150").locator(".wfkit-graph")
    graph.wait_for()
    group = graph.locator(".wfkit-group-collapsed")
    wait_count(group, 1)
    assert group.get_attribute("data-size") == "150"
    text = group.text_content()
    assert "150/150 done" in text and "completed 150" in text
    assert nodes(graph, kind="activity").count() == 0
    shoot(graph, "graph-large-fan-out")
    group.locator(".wfkit-link").click()  # expand: a page of 100 tasks
    wait_count(nodes(graph, kind="activity"), 100)
    graph.get_by_text("next ▸").click()
    wait_count(nodes(graph, kind="activity"), 50)
    graph.get_by_text("▴ collapse").click()
    wait_count(nodes(graph, kind="activity"), 0)


def test_graph_statuses_retries_when_any_and_child(nb: Any, shoot: Any) -> None:
    graph = out(nb, "order").locator(".wfkit-graph")
    graph.wait_for()
    wait_count(nodes(graph, kind="end"), 1)
    flaky = nodes(graph, kind="activity", status="completed").filter(has_text="flaky")
    assert "completed (attempt 3)" in flaky.text_content()
    assert nodes(graph, kind="event", status="cancelled").count() == 1
    assert nodes(graph, kind="timer", status="completed").count() == 1
    child = nodes(graph, kind="child", status="completed")
    assert child.count() == 1
    shoot(graph, "graph")
    child.click()
    graph.locator(".wfkit-open-child").click()
    graph.locator(".wfkit-back").wait_for()
    wait_count(nodes(graph, kind="activity", status="completed"), 4)
    assert "order-1:" in graph.locator(".wfkit-instance").text_content()
    graph.locator(".wfkit-back").click()
    wait_count(nodes(graph, kind="child"), 1)


def test_status_changes_live_while_the_cell_is_idle(nb: Any, gate: Path) -> None:
    graph = out(nb, "live").locator(".wfkit-graph")
    graph.wait_for()
    wait_count(nodes(graph, kind="activity", status="running"), 1)
    gate.touch()  # the activity returns; no cell runs
    wait_count(nodes(graph, kind="activity", status="completed"), 1)
    wait_count(nodes(graph, kind="end", status="completed"), 1)


def test_next_timer_button_completes_a_timer_guarded_workflow(nb: Any, shoot: Any) -> None:
    output = out(nb, "timer")
    graph = output.locator(".wfkit-graph")
    wait_count(nodes(graph, kind="timer", status="waiting"), 1)
    panel = output.locator(".wfkit-clock-panel")
    timers = panel.locator(".wfkit-timer-table")
    timers.wait_for()
    assert "reminder-1" in timers.inner_text() and "2025-01-01 02:00:00" in timers.inner_text()
    shoot(output.locator(".wfkit-watch"), "watch")
    panel.locator(".wfkit-next-timer").click()
    wait_count(nodes(graph, kind="timer", status="completed"), 1)
    wait_count(nodes(graph, kind="end", status="completed"), 1)
    assert "2025-01-01 02:00:00" in panel.locator(".wfkit-clock-time").inner_text()
    panel.locator(".wfkit-no-timers").wait_for()


def test_event_form_raises_an_event_that_completes_the_instance(nb: Any, shoot: Any) -> None:
    output = out(nb, "event")
    graph = output.locator(".wfkit-graph")
    wait_count(nodes(graph, kind="event", status="waiting"), 1)
    panel = output.locator(".wfkit-clock-panel")
    name = panel.locator(".wfkit-event-name input")
    deadline = time.monotonic() + 10
    while name.input_value() != "approval":  # pre-filled with what the instance waits for
        assert time.monotonic() < deadline, f"event name is {name.input_value()!r}"
        time.sleep(0.1)
    payload = panel.locator(".wfkit-event-payload textarea")
    payload.fill('{"approved": tru')
    panel.locator(".wfkit-payload-error").get_by_text("JSON error").wait_for()
    # the error text and the button's state arrive as two updates from the kernel
    deadline = time.monotonic() + 10
    while not panel.locator(".wfkit-raise-event").is_disabled():
        assert time.monotonic() < deadline, "the raise button stays enabled on bad JSON"
        time.sleep(0.1)
    shoot(panel, "clock-panel")
    payload.fill('{"approved": true, "by": "ops"}')
    panel.locator(".wfkit-payload-error").get_by_text("JSON error").wait_for(state="detached")
    raise_button = panel.locator(".wfkit-raise-event")
    deadline = time.monotonic() + 10
    while raise_button.is_disabled():
        assert time.monotonic() < deadline, "the raise button stays disabled"
        time.sleep(0.1)
    raise_button.click()
    wait_count(nodes(graph, kind="event", status="completed"), 1)
    wait_count(nodes(graph, kind="end", status="completed"), 1)
    assert re.search(r"raised 'approval' on approval-1", panel.inner_text())


def test_timeline_renders(nb: Any, shoot: Any) -> None:
    plot = nb.cell(INDEX["timeline"]).locator(".jp-RenderedPlotly")
    plot.locator(".main-svg").first.wait_for(timeout=30_000)
    text = plot.text_content() or ""
    assert "order-1" in text and "virtual time" in text
    assert "flaky" in text and "retry wait" in text
    shoot(plot, "timeline")


def test_history_table_pages(nb: Any, shoot: Any) -> None:
    table = out(nb, "history").locator(".wfkit-history-panel")
    table.wait_for()
    label = table.locator(".wfkit-history-page-text")
    assert re.search(r"rows 1–10 of \d+ · page 1 of \d+", label.inner_text())
    first = table.locator(".wfkit-history-row").first.inner_text()
    assert table.locator(".wfkit-history-row").count() == 10
    shoot(table, "history-table")
    table.locator(".wfkit-history-next").click()
    table.get_by_text("page 2 of").wait_for()
    assert table.locator(".wfkit-history-row").first.inner_text() != first
    assert re.search(r"rows 11–20 of", label.inner_text())
    # filter by kind: queried again, from page 1
    table.locator(".wfkit-history-kind select").select_option("TaskCompleted")
    table.get_by_text("rows 1–10 of 150 ").wait_for()
    # a long payload cell expands
    table.locator(".wfkit-history-prev").wait_for()


def test_dashboard_filters_the_instance_list(nb: Any, shoot: Any) -> None:
    board = out(nb, "dashboard").locator(".wfkit-dashboard")
    board.wait_for()
    board.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    count = board.locator(".wfkit-dashboard-count")
    assert "3 of 3 instances" in count.inner_text()
    shoot(board, "dashboard")
    board.locator(".wfkit-dashboard-workflow").get_by_text("order", exact=True).click()
    board.get_by_text("1 of 3 instances").wait_for()


def test_dashboard_summary_and_status_filter(nb: Any) -> None:
    board = out(nb, "dashboard").locator(".wfkit-dashboard")
    summary = board.locator(".wfkit-dashboard-workflows")
    summary.wait_for()
    assert "fan_out" in summary.inner_text() and "success rate" in summary.inner_text()
    # each choice is a round trip to the kernel: wait for its pressed state before the next
    workflows = board.locator(".wfkit-dashboard-workflow")
    workflows.get_by_text("all", exact=True).click()
    workflows.locator("[aria-pressed=true]", has_text=re.compile("^all$")).wait_for()
    statuses = board.locator(".wfkit-dashboard-status")
    statuses.get_by_text("COMPLETED", exact=True).click()
    statuses.locator("[aria-pressed=true]", has_text="COMPLETED").wait_for()
    board.locator(".wfkit-dashboard-count", has_text="3 of 3 instances").wait_for()


def test_run_many_shows_its_progress(nb: Any) -> None:
    progress = out(nb, "many").locator(".wfkit-progress")
    progress.wait_for()
    assert "6/6 finished" in progress.locator(".wfkit-progress-label").inner_text()
    assert progress.locator(".wfkit-progress-bar").get_attribute("data-style") == "success"


def test_watch_draws_the_timeline_on_request(nb: Any) -> None:
    view = out(nb, "timer").locator(".wfkit-watch")
    view.locator(".wfkit-show-timeline").click()
    plot = view.locator(".js-plotly-plot")
    plot.first.wait_for(timeout=30_000)
    assert "reminder-1" in (plot.first.text_content() or "")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_dashboard_and_progress_text_contrast(
    nb: Any, theme: str, change_theme: Any, low_contrast: Any
) -> None:
    change_theme(nb.page, theme)
    try:
        failures = {
            part: low_contrast(out(nb, cell).locator(selector))
            for part, (cell, selector) in {
                "dashboard": ("dashboard", ".wfkit-dashboard-panel"),
                "progress": ("many", ".wfkit-progress"),
            }.items()
        }
    finally:
        change_theme(nb.page, "light")
    assert failures == {"dashboard": [], "progress": []}


def test_no_browser_console_errors(nb: Any) -> None:
    time.sleep(0.5)
    assert nb.errors == []
