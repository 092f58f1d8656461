"""Several apps in one process: ``call_activity(..., app_id=...)`` and
``call_child_workflow(..., app_id=...)`` run on the runtime serving that app, histories
record the target app, and a call to an app nobody serves fails its task."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from support import WAIT, output, raw_history

import wfkit as wf
from wfkit.core._history import ChildWorkflowInstanceCreated, TaskScheduled
from wfkit.interop.dapr import export_history

START = datetime(2025, 1, 1)
RETRY = wf.RetryPolicy(first_retry_interval=timedelta(milliseconds=100), max_number_of_attempts=2)


@pytest.fixture
def apps() -> Iterator[dict[str, Any]]:
    """Dapr's multi-app example as three runtimes of one process (app ids unique per test)."""
    prefix = os.environ["APP_ID"]
    names = {n: f"{prefix}-{n}" for n in ("app1", "app2", "app3")}
    printed: list[str] = []
    mode = {"activity_fails": False, "workflow_fails": False}

    app3 = wf.WorkflowRuntime(app_id=names["app3"], store=":memory:")

    @app3.activity
    def app3_activity(ctx) -> int:
        printed.append("app3 - received activity call")
        if mode["activity_fails"]:
            raise ValueError("Error in activity due to error mode being enabled")
        return 3

    app2 = wf.WorkflowRuntime(app_id=names["app2"], store=":memory:")

    @app2.workflow
    def app2_workflow(ctx: wf.DaprWorkflowContext):
        printed.append("app2 - received workflow call")
        if mode["workflow_fails"]:
            raise ValueError("Error in workflow due to error mode being enabled")
        try:
            yield ctx.call_activity(
                "app3_activity", input=None, app_id=names["app3"], retry_policy=RETRY
            )
            printed.append("app2 - received activity result")
        except wf.TaskFailedError:
            printed.append("app2 - received activity error from app3")
        return 2

    app1 = wf.WorkflowRuntime(app_id=names["app1"], store=":memory:")

    @app1.workflow
    def app1_workflow(ctx: wf.DaprWorkflowContext):
        try:
            result = yield ctx.call_child_workflow(
                workflow="app2_workflow", input=None, app_id=names["app2"], retry_policy=RETRY
            )
            printed.append(f"app1 - received workflow result {result}")
        except wf.TaskFailedError:
            printed.append("app1 - received workflow error from app2")
        return 1

    runtimes = (app3, app2, app1)
    for runtime in runtimes:
        runtime.start()
    try:
        yield {"names": names, "printed": printed, "mode": mode, "app1": app1, "app2": app2}
    finally:
        for runtime in runtimes:
            runtime.shutdown()


def run(app1: wf.WorkflowRuntime) -> tuple[str, wf.WorkflowState]:
    client = wf.DaprWorkflowClient(app1)
    iid = client.schedule_new_workflow("app1_workflow")
    return iid, client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)


def test_activities_and_child_workflows_run_on_the_app_they_name(apps):
    iid, state = run(apps["app1"])
    assert state.runtime_status is wf.WorkflowStatus.COMPLETED
    assert apps["printed"] == [
        "app2 - received workflow call",
        "app3 - received activity call",
        "app2 - received activity result",
        "app1 - received workflow result 2",
    ]
    # the child ran, and is recorded, in app2's store; the parent's history names the app
    created = [
        e for e in raw_history(apps["app1"], iid) if isinstance(e, ChildWorkflowInstanceCreated)
    ]
    assert [(e.workflow_name, e.app_id) for e in created] == [
        ("app2_workflow", apps["names"]["app2"])
    ]
    child = created[0].instance_id
    assert wf.DaprWorkflowClient(apps["app1"]).get_workflow_state(child) is None
    app2_client = wf.DaprWorkflowClient(apps["app2"])
    assert app2_client.get_workflow_state(child).runtime_status is wf.WorkflowStatus.COMPLETED
    scheduled = [e for e in raw_history(apps["app2"], child) if isinstance(e, TaskScheduled)]
    assert [(e.activity_name, e.app_id) for e in scheduled] == [
        ("app3_activity", apps["names"]["app3"])
    ]
    # exported as Dapr's router field
    exported = [e for e in export_history(apps["app2"], child) if "taskScheduled" in e]
    assert exported[0]["router"] == {"targetAppID": apps["names"]["app3"]}


def test_an_activity_error_in_another_app_reaches_the_caller_after_its_retries(apps):
    apps["mode"]["activity_fails"] = True
    _iid, state = run(apps["app1"])
    assert output(state) == 1
    assert apps["printed"] == [
        "app2 - received workflow call",
        "app3 - received activity call",
        "app3 - received activity call",  # the retry policy's second attempt
        "app2 - received activity error from app3",
        "app1 - received workflow result 2",
    ]


def test_a_child_workflow_failing_in_another_app_fails_the_callers_task(apps):
    apps["mode"]["workflow_fails"] = True
    _iid, state = run(apps["app1"])
    assert output(state) == 1
    assert apps["printed"][-1] == "app1 - received workflow error from app2"
    assert apps["printed"].count("app2 - received workflow call") == 2  # retried


def test_a_call_to_an_app_nobody_serves_fails_the_task_with_a_clear_error():
    app = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=":memory:")

    @app.workflow
    def caller(ctx: wf.DaprWorkflowContext):
        out = []
        for call in (
            ctx.call_activity("anything", app_id="billing"),
            ctx.call_child_workflow("anything", app_id="billing"),
        ):
            try:
                yield call
            except wf.TaskFailedError as error:
                out.append([error.details.error_type, error.details.message])
        return out

    with app:
        client = wf.DaprWorkflowClient(app)
        iid = client.schedule_new_workflow(caller)
        failures = output(client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT))
    assert [kind for kind, _ in failures] == ["AppNotFoundError", "AppNotFoundError"]
    for _, message in failures:
        assert "app 'billing' is not served in this process" in message
        assert f"'{app.app_id}'" in message  # the apps that run here
        assert "WorkflowRuntime(app_id='billing')" in message
        assert "Dapr's engine" in message  # apps of other processes


def test_a_name_the_target_app_does_not_register_fails_with_its_error(apps):
    app1 = apps["app1"]

    @app1.workflow
    def wrong_name(ctx: wf.DaprWorkflowContext):
        try:
            yield ctx.call_activity("no_such_activity", app_id=apps["names"]["app3"])
        except wf.TaskFailedError as error:
            return error.details.error_type

    client = wf.DaprWorkflowClient(app1)
    iid = client.schedule_new_workflow(wrong_name)
    assert output(client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)) == (
        "ActivityNotRegisteredError"
    )


def test_the_client_reaches_instances_of_other_apps_by_app_id(apps):
    client = wf.DaprWorkflowClient(apps["app1"])
    app2 = apps["names"]["app2"]
    iid = client.schedule_new_workflow("app2_workflow", app_id=app2)
    state = client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT, app_id=app2)
    assert output(state) == 2
    assert client.get_workflow_state(iid) is None  # not app1's
    assert client.get_workflow_state(iid, app_id=app2).runtime_status is state.runtime_status
    with pytest.raises(wf.WfkitError, match="no runtime serves app 'elsewhere'"):
        client.get_workflow_state(iid, app_id="elsewhere")
