"""What keeps the widgets small over many tasks and instances: the dashboard's aggregates
(computed in DuckDB) agree with the per-instance data, the duration chart is sent as
quartiles beyond a number of points, and a graph read while the code runs draws a
bounded number of the tasks not yielded yet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import wfkit as wf
from wfkit.inspect._graph_model import graph_model, running_graph_model
from wfkit.inspect._replay import ReplayedInstance, source_for
from wfkit.widgets import _board_queries as queries
from wfkit.widgets import dashboard, dashboard_data
from wfkit.widgets._dashboard import board_summary, summary

START = datetime(2025, 1, 1)


@pytest.fixture(params=["memory", ":memory:"])
def runtime(request: pytest.FixtureRequest) -> Iterator[wf.WorkflowRuntime]:
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=request.param)

    @wfr.activity
    def double(ctx: Any, x: int) -> int:
        return 2 * x

    @wfr.workflow
    def nap(ctx: Any, hours: int) -> Any:
        yield ctx.create_timer(timedelta(hours=hours))
        return hours

    @wfr.workflow
    def first_of_many(ctx: Any, n: int) -> Any:
        tasks = [ctx.call_activity(double, input=i) for i in range(n)]
        return (yield tasks[0])

    wfr.start()
    try:
        yield wfr
    finally:
        wfr.shutdown()


def run_all(wfr: wf.WorkflowRuntime, workflow: str, inputs: list[Any]) -> list[str]:
    client = wf.DaprWorkflowClient(wfr)
    ids = [client.schedule_new_workflow(workflow, input=x) for x in inputs]
    for instance_id in ids:
        state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
        assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED
    return ids


def test_dashboard_aggregates_agree_with_the_instances(
    runtime: wf.WorkflowRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    hours = [1, 2, 3, 4, 100]
    run_all(runtime, "nap", hours)
    run_all(runtime, "first_of_many", [2])
    data = dashboard_data(runtime._engine.records())
    board = dashboard(runtime, live=False)
    expected = summary(data)
    assert board.stats[expected.columns].equals(expected)
    assert board.panel.board_view["note"] == "6 of 6 instances"
    assert [r["instance_id"] for r in board.panel.board_view["rows"]] == list(data.instance_id)
    (points,) = [t for t in board.figure.data if t.type == "box"]
    assert sorted(points.y) == sorted(data.duration_s)  # few: every point is sent
    board.close()
    # many: quartiles per workflow, the outliers as points
    monkeypatch.setattr(queries, "MAX_POINTS", 3)
    board = dashboard(runtime, live=False)
    (box,) = [t for t in board.figure.data if t.type == "box"]
    naps = data[data.workflow == "nap"].duration_s
    index = list(box.x).index("nap")
    q1, q3 = naps.quantile(0.25), naps.quantile(0.75)
    assert (box.q1[index], box.median[index], box.q3[index]) == (q1, naps.median(), q3)
    assert box.upperfence[index] == 4 * 3600 and box.lowerfence[index] == 3600
    (outliers,) = [t for t in board.figure.data if t.type == "scatter"]
    assert list(outliers.y) == [100 * 3600] and list(outliers.x) == ["nap"]
    board.close()


def test_board_summary_counts_each_status(runtime: wf.WorkflowRuntime) -> None:
    run_all(runtime, "nap", [1, 2])
    board = queries.BoardQueries(runtime._engine, include_children=False).board()
    stats = board_summary(board).set_index("workflow")
    assert stats.loc["nap", "instances"] == 2 and stats.loc["nap", "COMPLETED"] == 2
    assert stats.loc["nap", "median_duration_s"] == 1.5 * 3600 and board.total == 2
    assert isinstance(board.counts, pd.DataFrame)


def test_a_graph_read_while_the_code_runs_draws_a_page_of_its_new_tasks(
    runtime: wf.WorkflowRuntime,
) -> None:
    (instance_id,) = run_all(runtime, "first_of_many", [150])
    engine = runtime._engine
    view = ReplayedInstance(
        instance_id, engine.registry.workflow, source=source_for(engine.store, instance_id)
    )
    view.update()
    options: dict[str, Any] = {"group_limit": 100, "page_size": 100}
    full = graph_model(view, record=engine.record(instance_id), **options)
    running = running_graph_model(
        view,
        record=engine.record(instance_id),
        executing=(),
        children={},
        expanded={},
        **options,
    )
    unawaited = [n for n in full["nodes"] if n.get("awaited") is False]
    assert len(unawaited) == 149  # drawn once the episode is over
    assert len([n for n in running["nodes"] if n.get("awaited") is False]) == 100
    assert running["steps"][:2] == full["steps"][:2]
