"""Payloads over ``max_payload_bytes`` are refused where they are made, with a clear error,
and nothing of them reaches the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from support import WAIT, complete, output, snapshot

import wfkit as wf

LIMIT = 1_000
BIG = "x" * (LIMIT + 1)
T0 = datetime(2025, 1, 1)


@pytest.fixture(params=["memory", ":memory:"])
def wfr(request: pytest.FixtureRequest) -> Any:
    runtime = wf.WorkflowRuntime(
        store=request.param, clock=wf.VirtualClock(T0, flow=False), max_payload_bytes=LIMIT
    )

    @runtime.activity
    def echo(ctx: wf.WorkflowActivityContext, size: int) -> str:
        return "y" * size

    @runtime.workflow
    def waits(ctx: wf.DaprWorkflowContext, _: Any):  # type: ignore[no-untyped-def]
        return (yield ctx.wait_for_external_event("data"))

    @runtime.workflow
    def returns(ctx: wf.DaprWorkflowContext, size: int):  # type: ignore[no-untyped-def]
        try:
            return (yield ctx.call_activity(echo, input=size))
        except wf.TaskFailedError as exc:
            return f"refused: {exc.details.error_type}"

    @runtime.workflow
    def sends(ctx: wf.DaprWorkflowContext, _: Any):  # type: ignore[no-untyped-def]
        try:
            yield ctx.call_activity(echo, input=BIG)
        except wf.PayloadTooLargeError as exc:
            return str(exc)

    @runtime.workflow
    def outputs(ctx: wf.DaprWorkflowContext, _: Any) -> str:
        return BIG

    runtime.start()
    yield runtime
    runtime.shutdown()


def payloads(runtime: wf.WorkflowRuntime) -> list[str]:
    """Every payload the store holds: instance inputs, outputs, event payloads."""
    out = []
    for record, history in snapshot(runtime).values():
        out += [p for p in (record.input, record.output, record.custom_status) if p]
        for stored in history:
            event = stored.event
            out += [getattr(event, f, None) or "" for f in ("input", "result", "output")]
    return out


def test_an_oversize_input_is_refused_and_nothing_is_written(wfr: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(wfr)
    with pytest.raises(wf.PayloadTooLargeError, match="input of workflow 'waits'") as info:
        client.schedule_new_workflow("waits", input=BIG, instance_id="w")
    assert f"{LIMIT:,} bytes" in str(info.value) and "max_payload_bytes" in str(info.value)
    assert client.get_workflow_state("w") is None
    assert snapshot(wfr) == {}
    assert wfr.instances().empty


def test_an_oversize_event_is_refused_and_nothing_is_written(wfr: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("waits", instance_id="w")
    client.wait_for_workflow_start("w", timeout_in_seconds=WAIT)
    wfr.clock.advance_to(T0)  # let it reach the wait
    before = snapshot(wfr)
    with pytest.raises(wf.PayloadTooLargeError, match="data of event 'data'"):
        client.raise_workflow_event("w", "data", data=BIG)
    assert snapshot(wfr) == before
    client.raise_workflow_event("w", "data", data="small")
    assert output(complete(client, "w")) == "small"


def test_an_oversize_activity_result_fails_the_task_and_is_not_stored(
    wfr: wf.WorkflowRuntime,
) -> None:
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("returns", input=LIMIT + 10, instance_id="r")
    assert output(complete(client, "r")) == "refused: PayloadTooLargeError"
    client.schedule_new_workflow("returns", input=10, instance_id="ok")
    assert output(complete(client, "ok")) == "y" * 10
    assert max(len(p) for p in payloads(wfr)) <= LIMIT


def test_an_oversize_activity_input_is_refused_in_the_workflow(wfr: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("sends", instance_id="s")
    assert "input of activity 'echo'" in output(complete(client, "s"))
    assert not any(s.event.kind == "TaskScheduled" for s in wfr.store.history("s"))
    assert max(len(p) for p in payloads(wfr)) <= LIMIT


def test_an_oversize_workflow_output_fails_the_instance(wfr: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("outputs", instance_id="o")
    state = complete(client, "o")
    assert state.runtime_status is wf.WorkflowStatus.FAILED
    assert state.failure_details.error_type == "PayloadTooLargeError"
    assert max(len(p) for p in payloads(wfr)) <= LIMIT


def test_an_oversize_terminate_output_is_refused(wfr: wf.WorkflowRuntime) -> None:
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("waits", instance_id="w")
    client.wait_for_workflow_start("w", timeout_in_seconds=WAIT)
    before = snapshot(wfr)
    with pytest.raises(wf.PayloadTooLargeError, match="terminate output"):
        client.terminate_workflow("w", output=BIG)
    assert snapshot(wfr) == before
    assert client.get_workflow_state("w").runtime_status is wf.WorkflowStatus.RUNNING


def test_the_default_limit_is_a_few_mebibytes() -> None:
    runtime = wf.WorkflowRuntime(store="memory")
    assert runtime._engine.limit == 4 * 1024 * 1024
