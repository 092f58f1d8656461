"""The process is the sidecar: a new ``WorkflowRuntime`` sees the instances of the one
before (a re-run notebook cell, the next part of Dapr's versioning example), takes over
from it cleanly, and re-registered code reaches running instances at their next event."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from support import complete, output, settle, until

import wfkit as wf

#: Each test runs as an app of its own (``APP_ID`` is set per test in conftest.py).
START = datetime(2025, 1, 1)
COMPLETED = wf.WorkflowStatus.COMPLETED
FAILED = wf.WorkflowStatus.FAILED


def charge(ctx, x: int) -> int:
    return x * 10


def notify(ctx, x: int) -> str:
    return f"sent {x}"


def order_v1(ctx, x: int):
    charged = yield ctx.call_activity(charge, input=x)
    yield ctx.wait_for_external_event("ship")
    return {"charged": charged}


def make(app_id: str | None = None, workflow: Any = order_v1, **kwargs: Any) -> wf.WorkflowRuntime:
    wfr = wf.WorkflowRuntime(app_id=app_id, clock=wf.VirtualClock(START, flow=False), **kwargs)
    wfr.register_activity(charge)
    wfr.register_activity(notify)
    wfr.register_workflow(workflow, name="order")
    return wfr


# ---------------------------------------------------------------- a new runtime sees the old
def test_a_new_runtime_in_the_process_sees_the_instances_of_the_one_before():
    first = make()
    first.start()
    iid = wf.DaprWorkflowClient(first).schedule_new_workflow("order", input=2)
    settle(first)
    first.shutdown()

    second = make()  # as versioning.py's new_wfr(): same app, no store given
    assert second.store is first.store
    second.start()
    client = wf.DaprWorkflowClient(second)
    assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.RUNNING
    client.raise_workflow_event(iid, "ship")
    assert output(complete(client, iid)) == {"charged": 20}
    second.shutdown()


def test_a_runtime_created_while_another_runs_takes_over_and_the_old_object_follows():
    first = make()
    first.start()
    iid = wf.DaprWorkflowClient(first).schedule_new_workflow("order", input=1)
    settle(first)
    old_engine = first._engine
    first.clock.advance(timedelta(hours=3))

    second = make()  # a re-run notebook cell
    assert not old_engine.running  # one engine runs a store at a time
    # the earlier object is now a view of the new runtime
    assert first._engine is second._engine
    assert first.clock is second.clock
    assert second.clock.now() == START + timedelta(hours=3)  # time went on from there
    second.start()
    assert first.is_running
    client = wf.DaprWorkflowClient(first)
    client.raise_workflow_event(iid, "ship")
    assert output(complete(client, iid)) == {"charged": 10}
    first.shutdown()
    assert not second.is_running


def test_an_explicit_store_or_another_app_gives_isolation():
    shared = make()
    shared.start()
    iid = wf.DaprWorkflowClient(shared).schedule_new_workflow("order", input=1)
    settle(shared)
    own = make(store=":memory:")
    other_app = make(app_id=shared.app_id + "-warehouse")
    try:
        assert own.store is not shared.store and other_app.store is not shared.store
        assert shared.is_running  # nothing was taken over
        for runtime in (own, other_app):
            assert wf.DaprWorkflowClient(runtime).get_workflow_state(iid) is None
    finally:
        for runtime in (shared, own, other_app):
            runtime.shutdown()


def test_the_app_id_comes_from_the_argument_then_app_id_in_the_environment(monkeypatch):
    monkeypatch.setenv("APP_ID", "from-dapr-run")
    assert wf.WorkflowRuntime(store="memory").app_id == "from-dapr-run"
    assert wf.WorkflowRuntime(app_id="given", store="memory").app_id == "given"
    monkeypatch.delenv("APP_ID")
    assert wf.WorkflowRuntime(store="memory").app_id == "wfkit"
    with pytest.raises(ValueError, match="app_id"):
        wf.WorkflowRuntime(app_id=" ", store="memory")


# ---------------------------------------------------------------- new code at the next event
def test_re_registering_replays_a_running_instance_with_the_new_code():
    wfr = make()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    iid = client.schedule_new_workflow("order", input=4)
    settle(wfr)

    def order_v2(ctx, x: int):
        charged = yield ctx.call_activity(charge, input=x)
        yield ctx.wait_for_external_event("ship")
        sent = yield ctx.call_activity(notify, input=charged)  # new step after the wait
        return {"charged": charged, "sent": sent}

    wfr.register_workflow(order_v2, name="order")  # re-running the cell, edited
    client.raise_workflow_event(iid, "ship")
    assert output(complete(client, iid)) == {"charged": 40, "sent": "sent 40"}
    wfr.shutdown()


def test_an_incompatible_change_fails_the_instance_with_non_determinism_error():
    wfr = make()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    iid = client.schedule_new_workflow("order", input=4)
    settle(wfr)

    def order_renamed(ctx, x: int):
        yield ctx.call_activity(notify, input=x)  # history recorded charge here
        yield ctx.wait_for_external_event("ship")

    wfr.register_workflow(order_renamed, name="order")
    client.raise_workflow_event(iid, "ship")
    state = complete(client, iid)
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "NonDeterminismError"
    assert "charge" in state.failure_details.message
    wfr.shutdown()


def test_is_patched_decides_for_a_running_instance_as_on_dapr():
    wfr = make()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    iid = client.schedule_new_workflow("order", input=5)
    settle(wfr)

    def order_patched(ctx, x: int):
        steps = []
        if ctx.is_patched("before"):  # before the wait: replayed, so not patched
            steps.append((yield ctx.call_activity(notify, input=-1)))
        charged = yield ctx.call_activity(charge, input=x)
        yield ctx.wait_for_external_event("ship")
        if ctx.is_patched("after"):  # past the history: patched
            steps.append((yield ctx.call_activity(notify, input=charged)))
        return steps

    wfr.register_workflow(order_patched, name="order")
    client.raise_workflow_event(iid, "ship")
    assert output(complete(client, iid)) == ["sent 50"]
    fresh = client.schedule_new_workflow("order", input=6)
    settle(wfr)
    client.raise_workflow_event(fresh, "ship")
    assert output(complete(client, fresh)) == ["sent -1", "sent 60"]
    wfr.shutdown()


def test_a_workflow_that_picks_its_code_when_called_runs_the_code_picked_at_each_event():
    # Dapr's versioning example: the registered function returns the generator of
    # whatever code a global names now; Dapr calls it again at every event
    picked: dict[str, Any] = {}

    def patching_workflow(ctx):
        return picked["code"](ctx)

    def v1(ctx):
        yield ctx.call_activity(notify, input=1)
        yield ctx.wait_for_external_event("event")
        return "v1"

    def v2(ctx):
        yield ctx.call_activity(notify, input=1)
        yield ctx.wait_for_external_event("event")
        return "v2"

    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False))
    wfr.register_activity(notify)
    wfr.register_workflow(patching_workflow)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    picked["code"] = v1
    iid = client.schedule_new_workflow(patching_workflow)
    until(lambda: wfr._engine.waiting_for_events(iid) == ["event"])
    picked["code"] = v2
    client.raise_workflow_event(iid, "event")
    assert output(complete(client, iid)) == "v2"
    wfr.shutdown()


def test_a_patch_added_before_an_event_wait_replays_as_in_daprs_versioning_example():
    # versioning.py's test5: the event wait of the old code recorded an optional timer at
    # the id where the new code now calls an activity; Dapr's executor drops that timer
    picked: dict[str, Any] = {}
    steps: list[str] = []

    def say(ctx, text: str) -> None:
        steps.append(text)

    def patching_workflow(ctx):
        return picked["code"](ctx)

    def before(ctx):
        yield ctx.call_activity(say, input="start")
        yield ctx.wait_for_external_event("event")
        if ctx.is_patched("patch2"):
            yield ctx.call_activity(say, input="patch2 is patched")

    def after(ctx):
        yield ctx.call_activity(say, input="start")
        if ctx.is_patched("patch1"):
            yield ctx.call_activity(say, input="patch1 is patched")
        else:
            yield ctx.call_activity(say, input="patch1 is not patched")
        yield ctx.wait_for_external_event("event")
        if ctx.is_patched("patch2"):
            yield ctx.call_activity(say, input="patch2 is patched")

    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False))
    wfr.register_activity(say)
    wfr.register_workflow(patching_workflow)
    with wfr:
        client = wf.DaprWorkflowClient(wfr)
        picked["code"] = before
        iid = client.schedule_new_workflow(patching_workflow)
        until(lambda: wfr._engine.waiting_for_events(iid) == ["event"])
        picked["code"] = after
        client.raise_workflow_event(iid, "event")
        assert complete(client, iid).runtime_status is COMPLETED
    assert steps == ["start", "patch1 is not patched", "patch2 is patched"]


def test_an_instance_whose_version_is_not_registered_stalls_and_takes_events():
    # versioning.py's test7: a new runtime registers only a newer version
    def say(ctx, text: str) -> str:
        return text

    def version1(ctx):
        yield ctx.call_activity(say, input="v1")
        yield ctx.wait_for_external_event("event")
        return "finished v1"

    def version2(ctx):
        yield ctx.wait_for_external_event("event")
        return "finished v2"

    first = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False))
    first.register_activity(say)
    first.register_versioned_workflow(version1, name="stall", is_latest=True)
    first.start()
    iid = wf.DaprWorkflowClient(first).schedule_new_workflow("stall")
    until(lambda: first._engine.waiting_for_events(iid) == ["event"])
    first.shutdown()

    second = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False))
    second.register_activity(say)
    second.register_versioned_workflow(version2, name="stall", is_latest=True)
    with pytest.warns(wf.WfkitWarning, match="not registered"):
        second.start()
    client = wf.DaprWorkflowClient(second)
    assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.STALLED
    client.raise_workflow_event(iid, "event")  # accepted, as on Dapr
    assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.STALLED
    second.register_versioned_workflow(version1, name="stall", is_latest=False)
    assert output(complete(client, iid)) == "finished v1"
    second.shutdown()


def test_a_stalled_instance_keeps_its_events_across_a_restart(tmp_path):
    def say(ctx, text: str) -> str:
        return text

    def version1(ctx):
        yield ctx.call_activity(say, input="v1")
        value = yield ctx.wait_for_external_event("event")
        return f"finished v1 with {value}"

    def version2(ctx):
        yield ctx.wait_for_external_event("event")
        return "finished v2"

    path = tmp_path / "stall.duckdb"

    def runtime(*versions):
        made = wf.WorkflowRuntime(store=path, clock=wf.VirtualClock(START, flow=False))
        made.register_activity(say)
        for code in versions:
            made.register_versioned_workflow(code, name="stall", is_latest=code is versions[-1])
        return made

    first = runtime(version1)
    first.start()
    iid = wf.DaprWorkflowClient(first).schedule_new_workflow("stall")
    until(lambda: first._engine.waiting_for_events(iid) == ["event"])
    first.shutdown()

    second = runtime(version2)  # the version the instance runs is not registered: it stalls
    with pytest.warns(wf.WfkitWarning, match="not registered"):
        second.start()
    client = wf.DaprWorkflowClient(second)
    client.raise_workflow_event(iid, "event", data="kept")
    assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.STALLED
    second.shutdown()

    third = runtime(version1)  # the event was held in the store, not in the process
    third.start()
    assert output(complete(wf.DaprWorkflowClient(third), iid)) == "finished v1 with kept"
    third.shutdown()
