"""Bad input gets a typed error saying what was wrong and what to do, and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from support import WAIT, complete, kinds, settle, snapshot

import wfkit as wf

RUNNING = wf.WorkflowStatus.RUNNING
FAILED = wf.WorkflowStatus.FAILED


def waiter(ctx: wf.DaprWorkflowContext, _):
    value = yield ctx.wait_for_external_event("go")
    return value


def quick(ctx: wf.DaprWorkflowContext, value: Any):
    return value


@pytest.fixture
def busy(wfr, client):
    """A runtime holding one running and one finished instance."""
    wfr.register_workflow(waiter)
    wfr.register_workflow(quick)
    client.schedule_new_workflow(waiter, instance_id="running")
    complete(client, client.schedule_new_workflow(quick, input=1, instance_id="finished"))
    settle(wfr)
    return snapshot(wfr)


def unchanged(wfr, client, before) -> None:
    settle(wfr)
    assert snapshot(wfr) == before
    assert client.list_workflow_instance_ids().instance_ids == list(before)


def test_unknown_workflow_name(wfr, client, busy):
    with pytest.raises(wf.WorkflowNotRegisteredError) as info:
        client.schedule_new_workflow("no_such_workflow", input=1)
    message = str(info.value)
    assert "no workflow is registered as 'no_such_workflow'" in message
    assert "registered: quick, waiter" in message
    assert "wfr.register_workflow" in message
    assert isinstance(info.value, ValueError)
    unchanged(wfr, client, busy)


def test_unknown_activity_name_fails_the_task(wfr, client):
    def calls_missing(ctx: wf.DaprWorkflowContext, _):
        try:
            yield ctx.call_activity("no_such_activity", input=1)
        except wf.TaskFailedError as error:
            return {"type": error.details.error_type, "message": error.details.message}

    def calls_missing_uncaught(ctx: wf.DaprWorkflowContext, _):
        yield ctx.call_activity("no_such_activity", input=1)

    wfr.register_workflow(calls_missing)
    wfr.register_workflow(calls_missing_uncaught)
    state = complete(client, client.schedule_new_workflow(calls_missing))
    result = state.serialized_output
    assert '"type": "ActivityNotRegisteredError"' in result
    assert "Activity function named 'no_such_activity' was not registered" in result
    assert "wfr.register_activity" in result

    state = complete(client, client.schedule_new_workflow(calls_missing_uncaught))
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "TaskFailedError"
    assert "no_such_activity" in state.failure_details.message


def test_unknown_child_workflow_name_fails_the_task(wfr, client):
    def calls_missing_child(ctx: wf.DaprWorkflowContext, _):
        yield ctx.call_child_workflow("no_such_child")

    wfr.register_workflow(calls_missing_child)
    iid = client.schedule_new_workflow(calls_missing_child, instance_id="p")
    state = complete(client, iid)
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "TaskFailedError"
    assert "no workflow is registered as 'no_such_child'" in state.failure_details.message
    child = client.get_workflow_state("p:0001")
    assert child.runtime_status is FAILED
    assert child.failure_details.error_type == "WorkflowNotRegisteredError"


def test_scheduling_an_instance_id_that_is_still_running(wfr, client, busy):
    with pytest.raises(wf.InstanceExistsError) as info:
        client.schedule_new_workflow(quick, input=2, instance_id="running")
    message = str(info.value)
    assert "'running' already exists and is RUNNING" in message
    assert "Pick another instance_id" in message
    unchanged(wfr, client, busy)
    # a finished instance's id can be reused
    state = complete(client, client.schedule_new_workflow(quick, input=3, instance_id="finished"))
    assert state.serialized_output == "3"
    assert kinds(client, "finished").count("executionStarted") == 1


@pytest.mark.parametrize("bad", [object(), {1, 2}, {"when": timedelta(1)}, b"bytes"])
def test_input_that_is_not_json_serializable(wfr, client, busy, bad):
    with pytest.raises(wf.SerializationError) as info:
        client.schedule_new_workflow(quick, input=bad)
    message = str(info.value)
    assert "input of workflow 'quick' is not JSON-serializable" in message
    assert "Use JSON types" in message
    assert isinstance(info.value, TypeError)
    unchanged(wfr, client, busy)

    with pytest.raises(wf.SerializationError, match="data of event 'go' is not JSON"):
        client.raise_workflow_event("running", "go", data=bad)
    with pytest.raises(wf.SerializationError, match="terminate output is not JSON"):
        client.terminate_workflow("running", output=bad)
    unchanged(wfr, client, busy)
    assert client.get_workflow_state("running").runtime_status is RUNNING


def test_activity_input_that_is_not_json_serializable_fails_the_workflow(wfr, client):
    def echo(ctx, value):
        return value

    def sends_a_set(ctx: wf.DaprWorkflowContext, _):
        yield ctx.call_activity(echo, input={1, 2})

    wfr.register_activity(echo)
    wfr.register_workflow(sends_a_set)
    iid = client.schedule_new_workflow(sends_a_set)
    state = complete(client, iid)
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "SerializationError"
    assert "input of activity 'echo' is not JSON-serializable" in state.failure_details.message
    assert "taskScheduled" not in kinds(client, iid)


def test_raising_an_event_on_an_unknown_instance(wfr, client, busy):
    with pytest.raises(wf.InstanceNotFoundError) as info:
        client.raise_workflow_event("nobody", "go", data=1)
    message = str(info.value)
    assert "no workflow instance with id 'nobody'" in message
    assert "list_workflow_instance_ids()" in message
    unchanged(wfr, client, busy)


def test_raising_an_event_on_a_finished_instance_changes_nothing(wfr, client, busy):
    client.raise_workflow_event("finished", "go", data=1)  # dropped, as on Dapr
    unchanged(wfr, client, busy)


@pytest.mark.parametrize("name", ["", None, 7])
def test_raising_an_event_without_a_name(wfr, client, busy, name):
    with pytest.raises(ValueError, match="event_name must be a non-empty string"):
        client.raise_workflow_event("running", name, data=1)
    unchanged(wfr, client, busy)


def test_purging_a_running_instance(wfr, client, busy):
    with pytest.raises(wf.InvalidInstanceStateError) as info:
        client.purge_workflow("running")
    message = str(info.value)
    assert "cannot purge workflow instance 'running': it is RUNNING" in message
    assert "Terminate it" in message
    unchanged(wfr, client, busy)
    with pytest.raises(wf.InstanceNotFoundError):
        client.purge_workflow("nobody")
    unchanged(wfr, client, busy)


def test_terminating_a_finished_instance_changes_nothing(wfr, client, busy):
    client.terminate_workflow("finished", output="late")  # a no-op, as on Dapr
    unchanged(wfr, client, busy)
    with pytest.raises(wf.InstanceNotFoundError):
        client.terminate_workflow("nobody")
    client.pause_workflow("finished")
    unchanged(wfr, client, busy)


def test_reading_an_unknown_instance(wfr, client, busy):
    assert client.get_workflow_state("nobody") is None
    with pytest.raises(wf.InstanceNotFoundError, match="no workflow instance with id 'nobody'"):
        client.get_workflow_history("nobody")
    with pytest.raises(wf.InstanceNotFoundError, match="to wait for"):
        client.wait_for_workflow_completion("nobody", timeout_in_seconds=WAIT)
    unchanged(wfr, client, busy)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"first_retry_interval": timedelta(seconds=-1)}, "first_retry_interval must be >= 0"),
        ({"max_number_of_attempts": 0}, "max_number_of_attempts must be >= 1"),
        ({"max_number_of_attempts": -3}, "max_number_of_attempts must be >= 1"),
        ({"backoff_coefficient": 0.5}, "backoff_coefficient must be >= 1"),
        ({"max_retry_interval": timedelta(seconds=-1)}, "max_retry_interval must be >= 0"),
        ({"retry_timeout": timedelta(minutes=-1)}, "retry_timeout must be >= 0"),
    ],
)
def test_invalid_retry_policy_values(changes, message):
    arguments: dict[str, Any] = {
        "first_retry_interval": timedelta(seconds=1),
        "max_number_of_attempts": 3,
        **changes,
    }
    with pytest.raises(ValueError, match=message) as info:
        wf.RetryPolicy(**arguments)
    (value,) = changes.values()
    assert repr(value) in str(info.value)  # says what it was given


def test_retry_policy_interval_must_be_a_timedelta():
    with pytest.raises(TypeError, match=r"timedelta\(seconds=1\)"):
        wf.RetryPolicy(first_retry_interval=5, max_number_of_attempts=3)


def test_a_wait_that_times_out(wfr, client, busy):
    with pytest.raises(TimeoutError) as info:
        client.wait_for_workflow_completion("running", timeout_in_seconds=0.05)
    message = str(info.value)
    assert "'running' is still RUNNING after 0.05 s" in message
    assert "raise the timeout" in message
    unchanged(wfr, client, busy)

    wfr.clock.auto_skip = False
    later = wfr.clock.now() + timedelta(days=1)
    iid = client.schedule_new_workflow(quick, input=1, start_at=later)
    with pytest.raises(TimeoutError, match="still PENDING"):
        client.wait_for_workflow_start(iid, timeout_in_seconds=0.05)
    assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.PENDING


def test_bad_clock_moves(wfr, client, busy):
    now = wfr.clock.now()
    with pytest.raises(ValueError, match="non-negative timedelta"):
        wfr.clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="only moves forward"):
        wfr.clock.advance_to(now - timedelta(days=1))
    with pytest.raises(TypeError, match="takes a datetime"):
        wfr.clock.advance_to("tomorrow")
    assert wfr.clock.now() == now
    unchanged(wfr, client, busy)


def test_bad_schedule_arguments(wfr, client, busy):
    with pytest.raises(TypeError, match="start_at takes a datetime"):
        client.schedule_new_workflow(quick, start_at="tomorrow")
    with pytest.raises(ValueError, match="instance_id must be a non-empty string"):
        client.schedule_new_workflow(quick, instance_id="")
    with pytest.raises(ValueError, match="cannot tell the name"):
        client.schedule_new_workflow(lambda ctx: None)
    unchanged(wfr, client, busy)


@pytest.mark.parametrize("limit", [-1, 2.5, "many", True])
def test_a_warm_instance_limit_that_is_not_a_count(limit):
    with pytest.raises(ValueError, match="history_cache_max_instances must be a whole number"):
        wf.WorkflowRuntime(history_cache_max_instances=limit)


def test_a_warm_instance_limit_of_zero_means_the_default_as_on_dapr():
    wfr = wf.WorkflowRuntime(store="memory", history_cache_max_instances=0)
    assert wfr._engine._warm.limit == 100_000
