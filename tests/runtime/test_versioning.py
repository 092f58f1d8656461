"""Changing workflow code under running instances: ``ctx.is_patched`` and named versions
(``register_versioned_workflow``), across a restart of a file-backed runtime, in the
history, in exports and in time travel. (Agreement with Dapr's executor is checked in
``tests/conformance/test_versioning_vs_dapr.py``.)"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support import complete, output, raw_history, settle

import wfkit as wf
from wfkit.core._history import WorkflowStarted
from wfkit.interop.dapr import export_history
from wfkit.timetravel import check_replay, open_cursor, save_history

START = datetime(2025, 1, 1)


def charge(ctx, x: int) -> int:
    return x * 10


def validate(ctx, x: int) -> str:
    return f"valid {x}"


def notify(ctx, amount: int) -> str:
    return f"sent {amount}"


def order_before(ctx, x: int):
    charged = yield ctx.call_activity(charge, input=x)
    yield ctx.wait_for_external_event("ship")
    return {"charged": charged}


def order_after(ctx, x: int):
    steps = []
    if ctx.is_patched("validate-first"):
        steps.append((yield ctx.call_activity(validate, input=x)))
    charged = yield ctx.call_activity(charge, input=x)
    yield ctx.wait_for_external_event("ship")
    if ctx.is_patched("notify"):
        steps.append((yield ctx.call_activity(notify, input=charged)))
    return {"charged": charged, "steps": steps}


def runtime(store: Any, workflow: Any, name: str = "order") -> wf.WorkflowRuntime:
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=store)
    for activity in (charge, validate, notify):
        wfr.register_activity(activity)
    if workflow is not None:
        wfr.register_workflow(workflow, name=name)
    return wfr


def patches_recorded(wfr: wf.WorkflowRuntime, iid: str) -> list[tuple[str, ...]]:
    return [e.patches for e in raw_history(wfr, iid) if isinstance(e, WorkflowStarted)]


def test_a_new_instance_takes_the_patched_paths_and_records_them(tmp_path: Path) -> None:
    wfr = runtime("memory", order_after)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    try:
        iid = client.schedule_new_workflow("order", input=3, instance_id="new")
        settle(wfr)
        client.raise_workflow_event(iid, "ship")
        state = complete(client, iid)
        assert output(state) == {"charged": 30, "steps": ["valid 3", "sent 30"]}
        # each episode records the patches found applied so far, as Dapr's sidecar does
        recorded = patches_recorded(wfr, iid)
        assert recorded[0] == ("validate-first",)
        assert recorded[-1] == ("validate-first", "notify")
        exported = [e for e in export_history(wfr, iid) if "workflowStarted" in e]
        assert exported[-1]["workflowStarted"] == {
            "version": {"patches": ["validate-first", "notify"]}
        }
        # the saved history replays with the code and takes the same paths
        path = save_history(wfr, iid, tmp_path)
        assert check_replay(path, order_after).ok
        assert open_cursor(path, workflow=order_after).last().output == output(state)
    finally:
        wfr.shutdown()


def test_an_instance_started_before_the_patches_keeps_its_path_after_a_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "orders.duckdb"
    old = runtime(wf.DuckDBStore(db), order_before)
    old.start()
    client = wf.DaprWorkflowClient(old)
    iid = client.schedule_new_workflow("order", input=4, instance_id="old")
    settle(old)
    assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.RUNNING
    old.shutdown()

    new = runtime(wf.DuckDBStore(db), order_after)
    new.start()
    client = wf.DaprWorkflowClient(new)
    try:
        fresh = client.schedule_new_workflow("order", input=5, instance_id="fresh")
        settle(new)
        for instance in (iid, fresh):
            client.raise_workflow_event(instance, "ship")
        # the replayed part kept the old path (no validate); what ran after took the new one
        assert output(complete(client, iid)) == {"charged": 40, "steps": ["sent 40"]}
        assert output(complete(client, fresh)) == {
            "charged": 50,
            "steps": ["valid 5", "sent 50"],
        }
        assert patches_recorded(new, iid) == [(), (), ("notify",), ("notify",)]
        # the old history, patched midway, replays against the current code as it ran
        assert check_replay(new, instance_id=iid).ok
        assert not check_replay(new, order_before, instance_id=fresh).ok
    finally:
        new.shutdown()


def test_a_patch_needs_a_name() -> None:
    def unnamed(ctx, _):
        if ctx.is_patched(" "):
            return "never"
        return "never either"

    wfr = runtime("memory", unnamed, name="unnamed")
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        state = complete(client, client.schedule_new_workflow("unnamed"))
        assert state.runtime_status is wf.WorkflowStatus.FAILED
        assert "a patch name is a non-empty string" in state.failure_details.message
    finally:
        wfr.shutdown()


def order_v1(ctx, x: int):
    charged = yield ctx.call_activity(charge, input=x)
    yield ctx.wait_for_external_event("ship")
    return ["v1", charged]


def order_v2(ctx, x: int):
    yield ctx.call_activity(validate, input=x)
    charged = yield ctx.call_activity(charge, input=x)
    yield ctx.wait_for_external_event("ship")
    return ["v2", charged]


def test_versions_new_instances_run_the_latest_old_ones_keep_theirs(tmp_path: Path) -> None:
    db = tmp_path / "versions.duckdb"
    first = runtime(wf.DuckDBStore(db), None)
    first.register_versioned_workflow(order_v1, name="order", version_name="v1", is_latest=True)
    first.start()
    client = wf.DaprWorkflowClient(first)
    iid = client.schedule_new_workflow("order", input=1, instance_id="on-v1")
    settle(first)
    started = [e for e in raw_history(first, iid) if isinstance(e, WorkflowStarted)]
    assert started[0].version_name == "v1"
    first.shutdown()

    # v2 becomes the latest; the instance on v1 waits until v1 is registered again
    second = runtime(wf.DuckDBStore(db), None)
    second.register_versioned_workflow(order_v2, name="order", version_name="v2", is_latest=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second.start()
    assert any("versions of them" in str(w.message) for w in caught)
    client = wf.DaprWorkflowClient(second)
    try:
        fresh = client.schedule_new_workflow("order", input=2, instance_id="on-v2")
        settle(second)
        client.raise_workflow_event(fresh, "ship")
        assert output(complete(client, fresh)) == ["v2", 20]

        @second.versioned_workflow(name="order", version_name="v1", is_latest=False)
        def order_v1_again(ctx, x: int):
            return (yield from order_v1(ctx, x))

        settle(second)
        client.raise_workflow_event(iid, "ship")
        assert output(complete(client, iid)) == ["v1", 10]
        # time travel replays each instance with the version it ran
        assert open_cursor(second, iid).last().output == ["v1", 10]
        assert open_cursor(second, fresh).last().output == ["v2", 20]
    finally:
        second.shutdown()


def test_versions_without_a_latest_cannot_start_a_new_instance() -> None:
    wfr = runtime("memory", None)
    wfr.register_versioned_workflow(order_v1, name="order", version_name="v1", is_latest=False)
    wfr.start()
    try:
        with pytest.raises(wf.WorkflowNotRegisteredError, match="is_latest=True"):
            wf.DaprWorkflowClient(wfr).schedule_new_workflow("order", input=1)
        assert wfr._engine.store.records() == []
    finally:
        wfr.shutdown()
