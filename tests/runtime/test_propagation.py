"""History propagation as Dapr 1.19 does it: what a child workflow or an activity
receives with OWN_HISTORY, LINEAGE or nothing, and the queries on it."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

import wfkit as wf

START = datetime(2025, 1, 1)

OWN = wf.PropagationScope.OWN_HISTORY
LINEAGE = wf.PropagationScope.LINEAGE


def complete(client: wf.DaprWorkflowClient, iid: str) -> wf.WorkflowState:
    state = client.wait_for_workflow_completion(iid, timeout_in_seconds=10)
    assert state is not None
    assert state.runtime_status is wf.WorkflowStatus.COMPLETED, state.failure_details
    return state


def kinds(history: wf.PropagatedHistory | None, instance_id: str) -> list[str]:
    assert history is not None
    return [e.kind for e in history.get_events_by_instance_id(instance_id)]


def validate(ctx, merchant: str) -> dict[str, Any]:
    return {"merchant": merchant, "valid": True}


def failing(ctx, _: Any) -> None:
    raise ValueError("card declined")


def seen_by_activity(ctx: wf.WorkflowActivityContext, _: Any) -> Any:
    history = ctx.get_propagated_history()
    if history is None:
        return None
    return {
        "scope": history.scope.name,
        "apps": history.get_app_ids(),
        "workflows": [(w.name, w.instance_id) for w in history.get_workflows()],
    }


def register(wfr: wf.WorkflowRuntime, *workflows: Any) -> None:
    for fn in (validate, failing, seen_by_activity):
        wfr.register_activity(fn)
    for fn in workflows:
        wfr.register_workflow(fn)


def test_own_history_gives_the_child_its_parents_events_up_to_the_call(wfr, client):
    seen: dict[str, Any] = {}

    def child(ctx: wf.DaprWorkflowContext, _: Any):
        history = ctx.get_propagated_history()
        parent = history.get_workflows()[-1]
        validated = parent.get_last_activity_by_name("validate")
        seen["validated"] = (validated.completed, json.loads(validated.output))
        seen["kinds"] = kinds(history, parent.instance_id)
        seen["parent"] = (parent.name, parent.app_id)
        seen["scope"] = history.scope
        return "paid"
        yield

    def parent(ctx: wf.DaprWorkflowContext, merchant: str):
        yield ctx.call_activity(validate, input=merchant)
        result = yield ctx.call_child_workflow(child, propagation=OWN)
        yield ctx.call_activity(validate, input="after")  # later events are not handed down
        return result

    register(wfr, child, parent)
    iid = client.schedule_new_workflow(parent, input="m-42")
    assert json.loads(complete(client, iid).serialized_output) == "paid"
    assert seen["validated"] == (True, {"merchant": "m-42", "valid": True})
    assert seen["parent"] == ("parent", wfr.app_id)
    assert seen["scope"] is OWN
    # the caller's history up to and including the event that creates the child
    assert seen["kinds"] == [
        "WorkflowStarted",
        "ExecutionStarted",
        "TaskScheduled",
        "WorkflowStarted",
        "TaskCompleted",
        "ChildWorkflowInstanceCreated",
    ]


def test_without_propagation_nothing_is_handed_down(wfr, client):
    def child(ctx: wf.DaprWorkflowContext, _: Any):
        return ctx.get_propagated_history() is None
        yield

    def parent(ctx: wf.DaprWorkflowContext, _: Any):
        activity = yield ctx.call_activity(seen_by_activity)
        none_scope = yield ctx.call_activity(seen_by_activity, propagation=wf.PropagationScope.NONE)
        child_saw_none = yield ctx.call_child_workflow(child)
        return [activity, none_scope, child_saw_none]

    register(wfr, child, parent)
    state = complete(client, client.schedule_new_workflow(parent))
    assert json.loads(state.serialized_output) == [None, None, True]


def test_lineage_hands_down_the_ancestors_chunks_first_own_history_does_not(wfr, client):
    def child(ctx: wf.DaprWorkflowContext, _: Any):
        lineage = yield ctx.call_activity(seen_by_activity, propagation=LINEAGE)
        own = yield ctx.call_activity(seen_by_activity, propagation=OWN)
        return {"lineage": lineage, "own": own}

    def parent(ctx: wf.DaprWorkflowContext, _: Any):
        return (yield ctx.call_child_workflow(child, instance_id="kid", propagation=OWN))

    register(wfr, child, parent)
    iid = client.schedule_new_workflow(parent, instance_id="root")
    out = json.loads(complete(client, iid).serialized_output)
    assert out["lineage"] == {
        "scope": "LINEAGE",
        "apps": [wfr.app_id],
        "workflows": [["parent", "root"], ["child", "kid"]],
    }
    assert out["own"] == {
        "scope": "OWN_HISTORY",
        "apps": [wfr.app_id],
        "workflows": [["child", "kid"]],
    }


def test_failed_activities_and_children_are_reported_with_their_failure(wfr, client):
    report: dict[str, Any] = {}

    def broken(ctx: wf.DaprWorkflowContext, _: Any):
        raise RuntimeError("child broke")
        yield

    def reader(ctx: wf.DaprWorkflowContext, _: Any):
        parent = ctx.get_propagated_history().get_last_workflow_by_name("parent")
        declined = parent.get_last_activity_by_name("failing")
        kid = parent.get_last_child_workflow_by_name("broken")
        report["activity"] = (declined.failed, declined.completed, declined.error.message)
        report["child"] = (kid.failed, kid.error.error_type, kid.output)
        report["calls"] = len(parent.get_activities_by_name("validate"))
        for query in (
            lambda: parent.get_last_activity_by_name("nope"),
            lambda: parent.get_last_child_workflow_by_name("nope"),
            lambda: ctx.get_propagated_history().get_last_workflow_by_name("nope"),
        ):
            with pytest.raises(wf.PropagationNotFoundError, match="nope"):
                query()
        return None
        yield

    def parent(ctx: wf.DaprWorkflowContext, _: Any):
        yield ctx.call_activity(validate, input="a")
        yield ctx.call_activity(validate, input="b")
        for call in (ctx.call_activity(failing), ctx.call_child_workflow(broken)):
            with contextlib.suppress(wf.TaskFailedError):
                yield call
        yield ctx.call_child_workflow(reader, propagation=OWN)

    register(wfr, broken, reader, parent)
    complete(client, client.schedule_new_workflow(parent))
    assert report["activity"] == (True, False, "card declined")
    assert report["child"] == (True, "RuntimeError", None)
    assert report["calls"] == 2


def test_a_retried_call_keeps_its_propagation(wfr, client):
    attempts: list[list[str]] = []

    def flaky(ctx: wf.WorkflowActivityContext, _: Any) -> str:
        history = ctx.get_propagated_history()
        attempts.append([e.kind for e in history.events])
        if len(attempts) == 1:
            raise ValueError("first attempt fails")
        return "ok"

    def parent(ctx: wf.DaprWorkflowContext, _: Any):
        policy = wf.RetryPolicy(first_retry_interval=timedelta(seconds=1), max_number_of_attempts=2)
        return (yield ctx.call_activity(flaky, retry_policy=policy, propagation=OWN))

    wfr.register_activity(flaky)
    wfr.register_workflow(parent)
    complete(client, client.schedule_new_workflow(parent))
    assert len(attempts) == 2
    assert "TaskFailed" not in attempts[0]
    assert "TaskFailed" in attempts[1]  # the retry sees the failed attempt, as on Dapr


def test_continue_as_new_hands_the_received_history_to_the_next_generation(wfr, client):
    generations: list[list[tuple[str, str]]] = []

    def looping(ctx: wf.DaprWorkflowContext, n: int):
        history = ctx.get_propagated_history()
        generations.append([(w.name, w.instance_id) for w in history.get_workflows()])
        if n < 2:
            yield ctx.create_timer(timedelta(seconds=1))
            ctx.continue_as_new(n + 1)
            return None
        return n

    def parent(ctx: wf.DaprWorkflowContext, _: Any):
        return (
            yield ctx.call_child_workflow(looping, input=1, instance_id="loop", propagation=LINEAGE)
        )

    register(wfr, looping, parent)
    complete(client, client.schedule_new_workflow(parent, instance_id="p"))
    assert generations == [[("parent", "p")], [("parent", "p"), ("looping", "loop")]]


def test_propagated_history_round_trips_through_json(wfr, client):
    captured: list[wf.PropagatedHistory] = []

    def child(ctx: wf.DaprWorkflowContext, _: Any):
        captured.append(ctx.get_propagated_history())
        return None
        yield

    def parent(ctx: wf.DaprWorkflowContext, _: Any):
        with contextlib.suppress(wf.TaskFailedError):
            yield ctx.call_activity(failing)
        yield ctx.create_timer(timedelta(minutes=5))
        yield ctx.call_child_workflow(child, propagation=OWN)

    register(wfr, child, parent)
    complete(client, client.schedule_new_workflow(parent))
    history = captured[0]
    again = wf.PropagatedHistory.from_json(history.to_json())
    assert again.events == history.events
    assert again.scope is history.scope
    assert [w.name for w in again.get_workflows()] == ["parent"]


def test_an_unknown_propagation_value_is_refused_before_anything_runs(wfr, client):
    def parent(ctx: wf.DaprWorkflowContext, _: Any):
        yield ctx.call_activity(validate, input="x", propagation="everything")

    register(wfr, parent)
    state = client.wait_for_workflow_completion(
        client.schedule_new_workflow(parent), timeout_in_seconds=10
    )
    assert state.runtime_status is wf.WorkflowStatus.FAILED
    assert "propagation must be a PropagationScope" in state.failure_details.message


def test_received_history_survives_a_restart_of_a_file_backed_runtime(tmp_path):
    path = tmp_path / "wf.duckdb"
    seen: list[list[str]] = []

    def child(ctx: wf.DaprWorkflowContext, _: Any):
        yield ctx.wait_for_external_event("go")
        seen.append([w.name for w in ctx.get_propagated_history().get_workflows()])
        return "done"

    def parent(ctx: wf.DaprWorkflowContext, _: Any):
        return (yield ctx.call_child_workflow(child, instance_id="kid", propagation=OWN))

    def runtime() -> wf.WorkflowRuntime:
        wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=str(path))
        wfr.register_workflow(child)
        wfr.register_workflow(parent)
        wfr.start()
        return wfr

    first = runtime()
    client = wf.DaprWorkflowClient(first)
    iid = client.schedule_new_workflow(parent, instance_id="root")
    deadline = time.monotonic() + 10
    while (kid := client.get_workflow_state("kid")) is None or kid.runtime_status in (
        wf.WorkflowStatus.PENDING,
    ):  # the child exists once its parent's first turn is stored
        assert time.monotonic() < deadline, "the child workflow did not start"
        time.sleep(0.01)
    first.shutdown()

    second = runtime()
    try:
        client = wf.DaprWorkflowClient(second)
        client.raise_workflow_event("kid", "go")
        assert complete(client, iid).serialized_output == '"done"'
    finally:
        second.shutdown()
    assert seen == [["parent"]]  # read back from the child's stored ExecutionStarted
