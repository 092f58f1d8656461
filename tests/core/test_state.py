"""WorkflowState's reporting helpers."""

import pytest

import wfkit as wf


def test_raise_if_failed_raises_only_for_failed_instances(wfr, client):
    def boom(ctx, _):
        raise ValueError("no stock")

    def order(ctx, _):
        yield ctx.call_activity(boom)

    def ok(ctx, _):
        return 1

    wfr.register_activity(boom)
    wfr.register_workflow(order)
    wfr.register_workflow(ok)
    failed = client.wait_for_workflow_completion(
        client.schedule_new_workflow(order), timeout_in_seconds=10
    )
    with pytest.raises(wf.WorkflowFailedError, match="no stock") as raised:
        failed.raise_if_failed()
    assert raised.value.failure_details.error_type == "TaskFailedError"
    done = client.wait_for_workflow_completion(
        client.schedule_new_workflow(ok), timeout_in_seconds=10
    )
    assert done.raise_if_failed() is None
