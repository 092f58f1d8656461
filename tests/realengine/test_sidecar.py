"""The engine starts, and Dapr's own SDK runs a workflow on it."""

from __future__ import annotations

import pytest

from wfkit.interop.sidecar import Sidecar, SidecarUnavailableError, start_sidecar

wf = pytest.importorskip("dapr.ext.workflow")


def double(ctx, x: int) -> int:
    return x * 2


def orchestrator(ctx, x: int):
    doubled = yield ctx.call_activity(double, input=x)
    return doubled + 1


def test_dapr_sdk_runs_a_workflow_on_the_engine(sidecar: Sidecar) -> None:
    runtime = wf.WorkflowRuntime(host=sidecar.host, port=str(sidecar.port))
    runtime.register_workflow(orchestrator)
    runtime.register_activity(double)
    runtime.start()
    try:
        client = wf.DaprWorkflowClient(host=sidecar.host, port=str(sidecar.port))
        iid = client.schedule_new_workflow(orchestrator, input=20)
        state = client.wait_for_workflow_completion(iid, timeout_in_seconds=30)
        assert state.runtime_status == wf.WorkflowStatus.COMPLETED
        assert state.serialized_output == "41"
    finally:
        runtime.shutdown()


def test_a_port_taken_by_another_engine_is_a_clear_error(sidecar: Sidecar) -> None:
    with pytest.raises(SidecarUnavailableError, match="address already in use"):
        start_sidecar(port=sidecar.port)
    assert sidecar.running()


def test_the_engine_stops_and_cleans_up(fresh_sidecar: Sidecar) -> None:
    engine = fresh_sidecar
    folder = engine.db.parent
    assert engine.running() and folder.exists()
    engine.stop()
    assert not engine.running()
    assert not folder.exists()
