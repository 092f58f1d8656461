"""Time travel: cursors over replays (positions, locals, lines), forks and reruns, and
determinism checks of recorded histories against edited code."""

from __future__ import annotations

import dataclasses
import gc
import inspect
import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from seeds import fan_out_fan_in, request_escalation, task_chaining
from support import complete, output, raw_history, settle

import wfkit as wf
from wfkit.timetravel import (
    Cursor,
    ForkPointError,
    Frame,
    ReplayResult,
    assert_histories_replay,
    check_histories,
    check_replay,
    compare,
    fork,
    load_history,
    open_cursor,
    save_history,
)

COMPLETED = wf.WorkflowStatus.COMPLETED
FAILED = wf.WorkflowStatus.FAILED


def line_of(fn: Any, text: str) -> int:
    """The line number (in its file) of the first line of ``fn`` containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    raise AssertionError(f"{text!r} is not in {fn.__name__}")


CHAIN = task_chaining.task_chain_workflow
LINE_STEP1 = line_of(CHAIN, "result1 = yield")
LINE_STEP2 = line_of(CHAIN, "result2 = yield")
LINE_STEP3 = line_of(CHAIN, "result3 = yield")
LINE_RETURN = line_of(CHAIN, "return [result1")
LINE_RAISE = line_of(CHAIN, "        raise")


def register_chain(wfr: wf.WorkflowRuntime) -> None:
    wfr.register_workflow(CHAIN)
    for fn in (task_chaining.step1, task_chaining.step2, task_chaining.step3):
        wfr.register_activity(fn)
    wfr.register_activity(task_chaining.error_handler)


def run_chain(wfr: wf.WorkflowRuntime, client: wf.DaprWorkflowClient, n: int = 1) -> str:
    register_chain(wfr)
    iid = client.schedule_new_workflow(CHAIN, input=n, instance_id=f"chain-{n}")
    assert complete(client, iid).runtime_status is COMPLETED
    return iid


def first(cursor: Cursor, kind: str, *, after: int = -1) -> Frame:
    """The first frame after position ``after`` whose event is of ``kind``."""
    for i in range(after + 1, len(cursor)):
        if cursor.events[i].kind == kind:
            return cursor.goto(i)
    raise AssertionError(f"no {kind} after position {after}")


# ---------------------------------------------------------------- cursor: task chaining
def test_cursor_steps_through_the_chain_with_locals_and_lines(wfr, client):
    iid = run_chain(wfr, client)
    cursor = open_cursor(wfr, iid)
    assert len(cursor) == len(raw_history(wfr, iid)) == 12
    assert cursor.position == 0 and cursor.at_start

    start = cursor.frame
    assert start.kind == "WorkflowStarted" and start.status == "PENDING"
    assert start.line is None and start.locals == {}
    assert start.file == inspect.getsourcefile(CHAIN)

    started = cursor.step()
    assert (started.index, started.kind, started.status) == (1, "ExecutionStarted", "RUNNING")
    assert started.line == LINE_STEP1
    assert started.function == "task_chain_workflow"
    assert started.locals["wf_input"] == 1
    assert "result1" not in started.locals
    assert [(p.task_id, p.kind, p.name) for p in started.pending] == [(1, "activity", "step1")]

    done1 = first(cursor, "TaskCompleted")
    assert done1.locals["result1"] == 2
    assert done1.line == LINE_STEP2
    assert [p.name for p in done1.pending] == ["step2"]
    assert done1.event.task_scheduled_id == 1

    done2 = first(cursor, "TaskCompleted", after=done1.index)
    assert (done2.locals["result1"], done2.locals["result2"]) == (2, 4)
    assert done2.line == LINE_STEP3

    end = cursor.last()
    assert end.kind == "ExecutionCompleted" and end.status == "COMPLETED"
    assert end.output == [2, 4, 6]
    assert end.locals["result3"] == 6
    assert end.line == LINE_RETURN  # the line it returned at: its frame outlives it
    assert end.pending == () and end.pending_count == 0
    assert cursor.at_end


def test_cursor_moves_back_goto_first_last_and_iterates(wfr, client):
    iid = run_chain(wfr, client)
    cursor = open_cursor(wfr, iid)
    frames = list(cursor)
    assert [f.index for f in frames] == list(range(12))
    assert cursor.position == 11
    assert cursor.step().index == 11  # stays at the end
    assert cursor.back().index == 10
    assert cursor.back(3).index == 7
    assert cursor.goto(4).locals["result1"] == 2
    assert cursor.goto(-1).index == 11
    assert cursor.first().index == 0
    assert cursor.back().index == 0  # stays at the start
    with pytest.raises(IndexError):
        cursor.goto(12)
    # frames are frozen and kept: the same object comes back without a replay
    assert cursor.frame_at(4) is frames[4]
    with pytest.raises(dataclasses.FrozenInstanceError):
        frames[4].line = 1  # type: ignore[misc]


def test_jumping_back_replays_from_the_start_with_the_same_result(wfr, client):
    iid = run_chain(wfr, client)
    forward = [f.to_json() for f in open_cursor(wfr, iid)]
    cursor = open_cursor(wfr, iid)
    backward = [cursor.goto(i).to_json() for i in reversed(range(len(cursor)))]
    assert backward[::-1] == forward
    json.dumps(forward)  # JSON-safe throughout


def test_frame_graph_shows_the_execution_as_it_stood(wfr, client):
    iid = run_chain(wfr, client)
    cursor = open_cursor(wfr, iid)
    early = first(cursor, "TaskCompleted").graph
    statuses = [n["status"] for n in early["nodes"] if n["kind"] == "activity"]
    assert statuses == ["completed", "scheduled"]
    final = cursor.last().graph
    assert [n["status"] for n in final["nodes"] if n["kind"] == "activity"] == ["completed"] * 3
    assert final["steps"][0] == "start" and final["steps"][-1] == "end"


def test_cursor_over_a_failed_instance_ends_at_the_raise(wfr, client):
    register_chain(wfr)

    def step2(ctx, activity_input):
        raise ValueError(f"step 2 cannot handle {activity_input}")

    wfr.register_activity(step2, name="step2")
    iid = client.schedule_new_workflow(CHAIN, input=1)
    assert complete(client, iid).runtime_status is FAILED
    cursor = open_cursor(wfr, iid)
    failed = first(cursor, "TaskFailed")
    assert failed.line == line_of(CHAIN, "yield ctx.call_activity(error_handler")
    assert "step 2 cannot handle 2" in failed.locals["e"]
    end = cursor.last()
    assert end.status == "FAILED"
    assert end.failure is not None and end.failure.error_type == "TaskFailedError"
    assert end.line == LINE_RAISE
    assert end.error is None  # a failure of the code, not of the replay


# ---------------------------------------------------------------- cursor: fan-out
def test_cursor_on_the_fan_out_shows_the_work_batch_and_the_parallel_tasks(
    wfr, client, monkeypatch
):
    monkeypatch.setattr(fan_out_fan_in, "time", SimpleNamespace(sleep=lambda s: None))
    wfr.register_workflow(fan_out_fan_in.batch_processing_workflow)
    for fn in (
        fan_out_fan_in.get_work_batch,
        fan_out_fan_in.process_work_item,
        fan_out_fan_in.process_results,
    ):
        wfr.register_activity(fn)
    iid = client.schedule_new_workflow(fan_out_fan_in.batch_processing_workflow, input=3)
    complete(client, iid)
    workflow = fan_out_fan_in.batch_processing_workflow
    cursor = open_cursor(wfr, iid)

    batch = first(cursor, "TaskCompleted")
    assert batch.locals["work_batch"] == [1, 2, 3]
    assert batch.line == line_of(workflow, "outputs = yield wf.when_all")
    assert [(p.kind, p.name) for p in batch.pending] == [("activity", "process_work_item")] * 3
    assert batch.pending_count == 3
    tasks = batch.locals["parallel_tasks"]
    assert len(tasks) == 3 and all("process_work_item" in t for t in tasks)
    group = batch.graph["groups"]
    assert len(group) == 1 and group[0]["size"] == 3

    end = cursor.last()
    assert end.locals["outputs"] == [2, 4, 6]
    assert end.locals["total"] == 12
    assert end.status == "COMPLETED"


# ---------------------------------------------------------------- cursor: escalation
def escalation(wfr: wf.WorkflowRuntime, client: wf.DaprWorkflowClient, **order: Any) -> str:
    request_escalation.build(wfr)
    return client.schedule_new_workflow("request_escalation", input=json.dumps(order))


def test_cursor_on_a_running_escalation_then_the_approved_one(wfr, client):
    iid = escalation(wfr, client, amount=5000)
    settle(wfr)
    cursor = open_cursor(wfr, iid)
    waiting = cursor.last()
    assert waiting.status == "RUNNING"
    workflow = wfr._engine.registry.workflow("request_escalation").fn
    assert waiting.line == line_of(workflow, "winner = yield when_any")
    assert {(p.kind, p.name) for p in waiting.pending} == {
        ("timer", None),
        ("event", "human_approval"),
    }
    assert waiting.locals["amount"] == 5000
    assert "winner" not in waiting.locals

    client.raise_workflow_event(iid, "human_approval", data={"approved": True})
    complete(client, iid)
    assert cursor.refresh() > 0
    raised = first(cursor, "EventRaised")
    assert raised.locals["winner"].startswith("<event 'human_approval': received")
    assert raised.locals["approval_result"] == {"approved": True}
    assert raised.line == line_of(workflow, "yield ctx.call_activity(process_approval_activity")
    assert cursor.last().status == "COMPLETED"


def test_cursor_on_the_timed_out_escalation_shows_the_timer_winning(wfr, client):
    iid = escalation(wfr, client, amount=1000)
    complete(client, iid)
    cursor = open_cursor(wfr, iid)
    fired = first(cursor, "TimerFired")
    assert fired.locals["winner"].startswith("<timer #2 at 2025-01-08T00:00:00: fired")
    assert fired.time == fired.event.timestamp  # the virtual time of that episode
    assert fired.time - cursor.frame_at(0).time == timedelta(days=7)


def test_cursor_on_a_terminated_instance(wfr, client):
    iid = escalation(wfr, client, amount=5000)
    settle(wfr)
    client.terminate_workflow(iid, output="stop")
    complete(client, iid)
    end = open_cursor(wfr, iid).last()
    assert end.status == "TERMINATED"
    assert end.kind == "ExecutionCompleted"


def test_cursor_with_edited_code_reports_the_replay_error(wfr, client):
    iid = run_chain(wfr, client)

    def edited(ctx, wf_input):
        a = yield ctx.call_activity("step1", input=wf_input)
        b = yield ctx.call_activity("renamed", input=a)
        return [a, b]

    cursor = open_cursor(wfr, iid, workflow=edited)
    assert cursor.goto(4).error is None
    broken = cursor.goto(5)
    assert broken.error is not None and "NonDeterminismError" in broken.error
    assert broken.function == "edited"


def test_cursor_over_a_history_file_and_a_list_of_events(wfr, client, tmp_path):
    iid = run_chain(wfr, client)
    path = save_history(wfr, iid, tmp_path)
    assert path == tmp_path / f"{iid}.json"
    with pytest.raises(TypeError, match="workflow"):
        open_cursor(path)
    from_file = open_cursor(path, workflow=CHAIN)
    assert from_file.instance_id == iid and from_file.workflow_name == "task_chain_workflow"
    assert from_file.last().output == [2, 4, 6]
    from_list = open_cursor(raw_history(wfr, iid), workflow=CHAIN)
    assert from_list.goto(4).locals["result1"] == 2
    stored = wfr._engine.store.history(iid)
    assert open_cursor(stored, workflow=CHAIN).last().line == LINE_RETURN
    # a store works like a runtime, but needs the code
    assert open_cursor(wfr._engine.store, iid, workflow=CHAIN).last().status == "COMPLETED"


@pytest.mark.parametrize("enabled", [True, False])
def test_reading_and_replaying_leave_the_garbage_collector_as_they_found_it(
    wfr, client, tmp_path, enabled
):
    # the bulk paths pause the collector; a user who turned it off keeps it off
    iid = run_chain(wfr, client)
    path = save_history(wfr, iid, tmp_path)
    (gc.enable if enabled else gc.disable)()
    try:
        assert open_cursor(path, workflow=CHAIN).last().output == [2, 4, 6]
        assert gc.isenabled() is enabled
        assert not check_replay(path, chain_v2_renamed).ok
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_locals_are_json_safe_and_bounded():
    from wfkit.timetravel._snapshot import MAX_ITEMS, jsonable

    @dataclasses.dataclass
    class Order:
        id: str
        lines: list[int]

    out = jsonable(
        {
            "order": Order("o1", [1, 2]),
            "many": list(range(1000)),
            "obj": object(),
            "nan": float("nan"),
        }
    )
    assert out["order"] == {"id": "o1", "lines": [1, 2]}
    assert len(out["many"]) == MAX_ITEMS + 1 and out["many"][-1] == "… 900 more"
    assert out["obj"].startswith("<object object at")
    assert out["nan"] == "nan"
    json.dumps(out)


def test_player_widget_follows_the_cursor(wfr, client):
    pytest.importorskip("anywidget")
    from wfkit.timetravel import Player

    iid = run_chain(wfr, client)
    cursor = open_cursor(wfr, iid)
    player = cursor.player()
    assert isinstance(player, Player)
    assert player.length == 12 and player.position == 0
    assert player.source["lines"][0].startswith("def task_chain_workflow")
    player.position = 4
    assert cursor.position == 4
    assert player.frame["line"] == LINE_STEP2
    assert player.frame["locals"]["result1"] == 2
    assert [r["index"] for r in player.rows][:3] == [0, 1, 2]
    assert any(n.get("kind") == "activity" for n in player.graph["nodes"])
    player.step()
    assert player.position == 5 and player.frame["kind"] == "TaskScheduled"
    player.goto(100)
    assert player.position == 11 and player.frame["status"] == "COMPLETED"
    assert "wfkit-graph-svg" in str(Player._esm)  # the graph widget's drawing, bundled in


# ---------------------------------------------------------------- forks
def test_fork_with_a_replaced_activity_result_changes_the_outcome(wfr, client):
    iid = run_chain(wfr, client)
    fid = fork(wfr, iid, at=2, replace_result={1: 100}, new_instance_id="chain-fork")
    state = complete(client, fid)
    assert output(state) == [100, 200, 202]
    record = wfr._engine.record(fid)
    assert (record.origin_instance_id, record.origin_event_id) == (iid, 2)
    assert record.name == "task_chain_workflow" and record.input == "1"
    assert output(client.get_workflow_state(iid)) == [2, 4, 6]  # the source is untouched

    table = compare(wfr, fid)  # with one id: the fork and its origin
    assert (table.attrs["a"], table.attrs["b"]) == (iid, fid)
    first_result = table[(table.a_kind == "TaskCompleted") & (table.a_task == 1)].iloc[0]
    assert first_result.change == "payload"
    assert (first_result.a_payload, first_result.b_payload) == ("2", "100")
    assert table.iloc[0].change == "same"
    assert set(table.change) <= {"same", "payload", "changed", "only a", "only b"}
    assert str(table.a_index.dtype) == "Int64"


def test_fork_with_a_new_input_for_the_call_and_from_a_frame(wfr, client):
    iid = run_chain(wfr, client)
    cursor = open_cursor(wfr, iid)
    at_step3 = next(f for f in cursor if f.kind == "TaskScheduled" and f.event_id == 3)
    fid = fork(wfr, iid, at_step3, input=50)
    assert output(complete(client, fid)) == [2, 4, 48]  # 50 ^ 2
    steps = [e for e in raw_history(wfr, fid) if e.kind == "TaskScheduled"]
    assert [(e.activity_name, e.input) for e in steps] == [
        ("step1", "1"),
        ("step2", "2"),
        ("step3", "50"),
    ]


def test_fork_with_edited_code_passed_explicitly(wfr, client):
    iid = run_chain(wfr, client)

    def task_chain_workflow(ctx, wf_input):
        result1 = yield ctx.call_activity("step1", input=wf_input)
        result2 = yield ctx.call_activity("step2", input=result1)
        return {"sum": result1 + result2}

    fid = fork(wfr, iid, at=3, workflow=task_chain_workflow)
    assert output(complete(client, fid)) == {"sum": 6}
    # the registered code is unchanged for everything else
    again = client.schedule_new_workflow(CHAIN, input=1)
    assert output(complete(client, again)) == [2, 4, 6]
    # a cursor on the fork replays it with the fork's code
    assert open_cursor(wfr, fid).last().output == {"sum": 6}


def test_fork_with_edited_code_that_cannot_replay_the_prefix(wfr, client):
    iid = run_chain(wfr, client)

    def edited(ctx, wf_input):
        yield ctx.create_timer(timedelta(seconds=1))
        return None

    with pytest.raises(wf.NonDeterminismError, match="cannot fork"):
        fork(wfr, iid, at=3, workflow=edited)


def test_fork_replaces_a_failure_and_an_event_payload(wfr, client):
    register_chain(wfr)

    def step2(ctx, activity_input):
        raise ValueError("down")

    wfr.register_activity(step2, name="step2")
    iid = client.schedule_new_workflow(CHAIN, input=1)
    assert complete(client, iid).runtime_status is FAILED
    wfr.register_activity(task_chaining.step2)
    # the error handler was scheduled as task 3; with step 2's failure replaced by 4
    # the code calls step3 there instead
    fid = fork(wfr, iid, at=3, replace_result={2: 4})
    assert output(complete(client, fid)) == [2, 4, 6]

    calls: list = []
    request_escalation.build(wfr, calls)
    eid = client.schedule_new_workflow("request_escalation", input='{"amount": 5000}')
    settle(wfr)
    client.raise_workflow_event(eid, "human_approval", data={"approved": True})
    complete(client, eid)
    scheduled = next(e for e in raw_history(wfr, eid) if e.kind == "TaskScheduled")
    fid = fork(
        wfr, eid, at=scheduled.event_id, replace_event_payload={"human_approval": {"approved": 0}}
    )
    complete(client, fid)
    assert calls == [
        ("process_approval_activity", {"approved": True}),
        ("process_approval_activity", {"approved": 0}),
    ]


def test_fork_points_are_scheduling_events_only(wfr, client):
    iid = run_chain(wfr, client)
    with pytest.raises(ForkPointError, match=r"event id 9 .* fork points: event id 1"):
        fork(wfr, iid, at=9)
    with pytest.raises(ForkPointError, match=r"position 4 .* is a TaskCompleted event"):
        fork(wfr, iid, index=4)
    with pytest.raises(ForkPointError, match="task 3 has no result"):
        fork(wfr, iid, at=2, replace_result={3: 0})
    with pytest.raises(TypeError, match="at=<event id> or index="):
        fork(wfr, iid)
    assert isinstance(ForkPointError("x"), ValueError)
    fid = fork(wfr, iid, index=5)  # position 5 schedules step2
    assert wfr._engine.record(fid).origin_event_id == 2
    assert output(complete(client, fid)) == [2, 4, 6]


def test_fork_of_a_timer_takes_no_input_and_a_running_source_is_fine(wfr, client):
    iid = escalation(wfr, client, amount=5000)
    settle(wfr)
    timer = next(e for e in raw_history(wfr, iid) if e.kind == "TimerCreated" and not e.is_optional)
    with pytest.raises(ForkPointError, match="timer, which takes no input"):
        fork(wfr, iid, at=timer.event_id, input=1)
    fid = fork(wfr, iid, at=timer.event_id)  # the source still runs: a fork only copies
    settle(wfr)
    assert client.get_workflow_state(fid).runtime_status is wf.WorkflowStatus.RUNNING
    client.raise_workflow_event(fid, "human_approval", data={"approved": True})
    assert complete(client, fid).runtime_status is COMPLETED


def test_client_rerun_is_a_fork_with_daprs_rules(wfr, client):
    iid = run_chain(wfr, client)
    rid = client.rerun_workflow_from_event(iid, 2, new_instance_id="rerun-1", input=10)
    assert rid == "rerun-1"
    assert output(complete(client, rid)) == [2, 20, 22]
    record = wfr._engine.record(rid)
    assert (record.origin_instance_id, record.origin_event_id) == (iid, 2)
    with pytest.raises(ValueError, match="event id 4"):
        client.rerun_workflow_from_event(iid, 4)

    eid = escalation(wfr, client, amount=5000)
    settle(wfr)
    with pytest.raises(wf.InvalidInstanceStateError, match="only finished instances"):
        client.rerun_workflow_from_event(eid, 1)


# ---------------------------------------------------------------- determinism checks
def chain_v2_renamed(ctx, wf_input):
    try:
        result1 = yield ctx.call_activity("step1", input=wf_input)
        result2 = yield ctx.call_activity("step2_v2", input=result1)
        result3 = yield ctx.call_activity("step3", input=result2)
    except Exception as e:
        yield ctx.call_activity("error_handler", input=str(e))
        raise
    return [result1, result2, result3]


def chain_v2_inserted(ctx, wf_input):
    try:
        result1 = yield ctx.call_activity("step1", input=wf_input)
        yield ctx.call_activity("audit", input=result1)
        result2 = yield ctx.call_activity("step2", input=result1)
        result3 = yield ctx.call_activity("step3", input=result2)
    except Exception as e:
        yield ctx.call_activity("error_handler", input=str(e))
        raise
    return [result1, result2, result3]


def test_unchanged_code_replays(wfr, client):
    iid = run_chain(wfr, client)
    result = check_replay(wfr, instance_id=iid)
    assert result.ok and bool(result) and result.divergence is None
    assert result.events == 12 and result.workflow == "task_chain_workflow"
    assert "replays" in str(result)


def test_divergence_of_a_renamed_activity(wfr, client):
    iid = run_chain(wfr, client)
    result = check_replay(wfr, chain_v2_renamed, instance_id=iid)
    assert isinstance(result, ReplayResult) and not result.ok
    d = result.divergence
    assert d is not None
    assert (d.kind, d.index, d.event_id) == ("changed", 5, 2)
    assert d.recorded == "call_activity('step2') with task id 2"
    assert d.current == "calls call_activity('step2_v2') with task id 2"
    assert d.recorded_line.line == LINE_STEP2
    assert d.recorded_line.code == "result2 = yield ctx.call_activity(step2, input=result1)"
    assert d.recorded_line.file == inspect.getsourcefile(CHAIN)
    assert d.current_line.line == line_of(chain_v2_renamed, "step2_v2")
    assert d.current_line.code == 'result2 = yield ctx.call_activity("step2_v2", input=result1)'
    text = str(result)
    assert "recorded: call_activity('step2')" in text and "task_chaining.py" in text
    assert "test_timetravel.py" in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.ok = True  # type: ignore[misc]


def test_divergence_of_an_inserted_step(wfr, client):
    iid = run_chain(wfr, client)
    d = check_replay(wfr, chain_v2_inserted, instance_id=iid).divergence
    assert d is not None
    assert (d.kind, d.event_id) == ("changed", 2)
    assert d.recorded == "call_activity('step2') with task id 2"
    assert d.current == "calls call_activity('audit') with task id 2"
    assert d.current_line.line == line_of(chain_v2_inserted, '"audit"')
    assert d.recorded_line.line == LINE_STEP2


def reminder(ctx, _):
    yield ctx.create_timer(timedelta(hours=1))
    return (yield ctx.call_activity("notify", input="hello"))


def reminder_v2(ctx, _):
    yield ctx.call_activity("wait_an_hour", input=None)
    return (yield ctx.call_activity("notify", input="hello"))


def reminder_v3(ctx, _):
    yield ctx.create_timer(timedelta(hours=1))
    yield ctx.call_activity("notify", input="hello")
    return (yield ctx.call_activity("notify", input="again"))


def reminder_v4(ctx, _):
    yield ctx.create_timer(timedelta(hours=1))
    return "nothing to say"


def run_reminder(wfr, client) -> str:
    wfr.register_workflow(reminder)

    @wfr.activity(name="notify")
    def notify(ctx, text):
        return text.upper()

    iid = client.schedule_new_workflow(reminder, instance_id="reminder-1")
    assert output(complete(client, iid)) == "HELLO"
    return iid


def test_divergence_of_a_timer_turned_into_an_activity(wfr, client):
    iid = run_reminder(wfr, client)
    d = check_replay(wfr, reminder_v2, instance_id=iid).divergence
    assert d is not None
    assert (d.kind, d.event_id) == ("changed", 1)
    assert d.recorded.startswith("create_timer(2025-01-01T01:00:00) with task id 1")
    assert d.current == "calls call_activity('wait_an_hour') with task id 1"
    assert d.recorded_line.line == line_of(reminder, "create_timer")
    assert d.current_line.line == line_of(reminder_v2, "wait_an_hour")


def test_divergence_of_an_added_call_and_of_a_removed_one(wfr, client):
    iid = run_reminder(wfr, client)
    extra = check_replay(wfr, reminder_v3, instance_id=iid).divergence
    assert extra is not None and extra.kind == "extra"
    assert extra.current == "calls call_activity('notify') with task id 3"
    assert extra.current_line.line == line_of(reminder_v3, '"again"')

    missing = check_replay(wfr, reminder_v4, instance_id=iid).divergence
    assert missing is not None and missing.kind == "missing"
    assert missing.recorded == "call_activity('notify') with task id 2"
    assert missing.current == "completes with 'nothing to say'"
    assert missing.current_line.line == line_of(reminder_v4, "return")


def test_history_files_are_checked_against_current_code(wfr, client, tmp_path):
    iid = run_chain(wfr, client)
    rid = run_reminder(wfr, client)
    save_history(wfr, iid, tmp_path)
    save_history(wfr, rid, tmp_path / "nested")
    doc = json.loads((tmp_path / f"{iid}.json").read_text())
    assert doc["format"] == "wfkit-history" and doc["workflow"] == "task_chain_workflow"
    assert doc["source"]["lines"]["5"] == {
        "line": LINE_STEP2,
        "code": "result2 = yield ctx.call_activity(step2, input=result1)",
    }
    assert doc["events"][1]["executionStarted"]["name"] == "task_chain_workflow"

    current = {"task_chain_workflow": CHAIN, "reminder": reminder}
    results = assert_histories_replay(tmp_path, current)
    assert [r.ok for r in results] == [True, True]

    edited = {"task_chain_workflow": chain_v2_renamed, "reminder": reminder_v2}
    results = check_histories(tmp_path, edited)
    assert [r.ok for r in results] == [False, False]
    assert results[0].path.endswith(f"{iid}.json")
    # the recorded line's text comes from the file, whatever the code says now
    assert results[0].divergence.recorded_line.code.startswith("result2 = yield")
    with pytest.raises(AssertionError, match=r"2 of 2 recorded histories do not replay"):
        assert_histories_replay(tmp_path, edited)
    with pytest.raises(AssertionError, match="step2_v2"):
        assert_histories_replay(results)

    missing = check_histories(tmp_path, {"reminder": reminder})
    assert missing[0].error == "no code given for workflow 'task_chain_workflow'"
    assert check_histories(tmp_path, wfr)[0].ok  # a runtime's registered code
    assert load_history(tmp_path / f"{iid}.json").lines[5].line == LINE_STEP2


def test_divergence_view_widget(wfr, client):
    pytest.importorskip("anywidget")
    iid = run_chain(wfr, client)
    view = check_replay(wfr, chain_v2_renamed, instance_id=iid).view()
    data = view.divergence
    assert data["kind"] == "changed" and data["index"] == 5
    recorded, current = data["recorded"], data["current"]
    assert recorded["line"] == LINE_STEP2
    assert recorded["lines"][recorded["line"] - recorded["start"]].strip().startswith("result2")
    assert "step2_v2" in current["lines"][current["line"] - current["start"]]
    ok = check_replay(wfr, instance_id=iid).view().divergence
    assert ok["ok"] and "12 events" in ok["summary"]


def test_timetravel_is_lazy_and_public():
    import subprocess
    import sys

    code = (
        "import sys, wfkit as wf; wf.timetravel.open_cursor; "
        "print('anywidget' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert Path(wf.timetravel.__file__).parent.name == "timetravel"
