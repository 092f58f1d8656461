"""Histories exchanged with Dapr: wfkit's exported as durabletask ``HistoryEvent``
protobuf JSON and read back, histories made by Dapr's own engine stepped through and
checked with the workflow code, and client ``get_workflow_history`` output imported."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import complete, output, raw_history, settle

import wfkit as wf
from wfkit.core._history import HistoryEvent, TimerFired
from wfkit.interop import dapr as interop
from wfkit.timetravel import check_replay, open_cursor, save_history

#: The workflow API the code below uses (when_any, when_all, RetryPolicy): wfkit's, or
#: Dapr's while Dapr's engine runs it.
api: Any = wf


def double(ctx, n):
    return n * 2


def boom(ctx, message):
    raise ValueError(message)


def chain(ctx, n):
    a = yield ctx.call_activity(double, input=n)
    b = yield ctx.call_activity(double, input=a)
    return [a, b]


def approval(ctx, hours):
    timer = ctx.create_timer(timedelta(hours=hours))
    event = ctx.wait_for_external_event("approval")
    winner = yield api.when_any([event, timer])
    if winner == timer:
        return "timed out"
    decision = event.get_result()
    return ["approved", decision]


def reminder(ctx, _):
    """Needs no input (a client's history does not carry it)."""
    event = ctx.wait_for_external_event("approval")
    timer = ctx.create_timer(timedelta(hours=2))
    winner = yield api.when_any([event, timer])
    return "timed out" if winner == timer else "approved"


def child(ctx, n):
    return (yield ctx.call_activity(double, input=n))


def rich(ctx, n):
    ctx.set_custom_status({"stage": "start"})
    parts = yield api.when_all([ctx.call_activity(double, input=i) for i in range(n)])
    try:
        yield ctx.call_activity(
            boom,
            input="no",
            retry_policy=api.RetryPolicy(
                first_retry_interval=timedelta(seconds=5), max_number_of_attempts=2
            ),
        )
    except Exception as exc:
        failed = type(exc).__name__
    kid = yield ctx.call_child_workflow(child, input=sum(parts), instance_id="rich-child")
    got = yield ctx.wait_for_external_event("go", timeout=timedelta(minutes=30))
    ctx.set_custom_status({"stage": "done"})
    return {"parts": parts, "failed": failed, "kid": kid, "got": got}


@pytest.fixture
def runtime(wfr):
    for fn in (chain, approval, reminder, child, rich):
        wfr.register_workflow(fn)
    for fn in (double, boom):
        wfr.register_activity(fn)
    return wfr


def histories(runtime, client) -> dict[str, list[HistoryEvent]]:
    """Finished instances covering every event type wfkit writes."""
    ids = [client.schedule_new_workflow(chain, input=3, instance_id="chain")]
    ids.append(client.schedule_new_workflow(approval, input=2, instance_id="timed-out"))
    approved = client.schedule_new_workflow(approval, input=2, instance_id="approved")
    settle(runtime)
    client.pause_workflow(approved)
    client.raise_workflow_event(approved, "approval", data={"by": "ada"})
    client.resume_workflow(approved)
    ids.append(approved)
    r = client.schedule_new_workflow(rich, input=3, instance_id="rich")
    settle(runtime)
    client.raise_workflow_event(r, "go", data="now")
    ids += [r, "rich-child"]
    stopped = client.schedule_new_workflow(approval, input=2, instance_id="stopped")
    settle(runtime)
    client.terminate_workflow(stopped, output="enough")
    ids.append(stopped)
    for iid in ids:
        complete(client, iid)
    assert output(client.get_workflow_state("rich")) == {
        "parts": [0, 2, 4],
        "failed": "TaskFailedError",
        "kid": 12,
        "got": "now",
    }
    return {iid: raw_history(runtime, iid) for iid in ids}


def test_histories_round_trip_through_daprs_json(runtime, client):
    kinds: set[str] = set()
    for iid, events in histories(runtime, client).items():
        dicts = interop.to_dapr_dicts(events, instance_id=iid)
        assert all(isinstance(d["timestamp"], str) for d in dicts)
        text = json.dumps(dicts)
        back = interop.from_dapr(text)
        assert back == events, iid
        assert interop.instance_id_of(dicts) == iid
        kinds.update(e.kind for e in events)
    assert kinds >= {
        "ExecutionStarted",
        "WorkflowStarted",
        "TaskScheduled",
        "TaskCompleted",
        "TaskFailed",
        "TimerCreated",
        "TimerFired",
        "EventRaised",
        "ChildWorkflowInstanceCreated",
        "ChildWorkflowInstanceCompleted",
        "ExecutionSuspended",
        "ExecutionResumed",
        "ExecutionTerminated",
        "ExecutionCompleted",
    }


def test_timestamps_are_written_as_protobuf_writes_them():
    assert interop.timestamp_json(datetime(2025, 1, 1)) == "2025-01-01T00:00:00Z"
    assert interop.timestamp_json(datetime(2025, 1, 1, 0, 0, 0, 120000)) == (
        "2025-01-01T00:00:00.120Z"
    )
    assert interop.timestamp_json(datetime(2025, 1, 1, 0, 0, 0, 5)) == (
        "2025-01-01T00:00:00.000005Z"
    )
    assert interop.parse_timestamp("2025-01-01T01:00:00.123456789+01:00") == datetime(
        2025, 1, 1, 0, 0, 0, 123456
    )
    assert interop.parse_timestamp(None) == datetime(1970, 1, 1)


def test_history_files_hold_daprs_json_and_reopen(runtime, client, tmp_path):
    iid = client.schedule_new_workflow(chain, input=3, instance_id="saved")
    complete(client, iid)
    path = save_history(runtime, iid, tmp_path / "saved.json")
    doc = json.loads(path.read_text())
    assert doc["events"] == interop.export_history(runtime, iid)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(doc["events"]))  # what an export from Dapr looks like
    assert open_cursor(bare, workflow=chain).last().output == [6, 12]
    assert open_cursor(path, workflow=chain).instance_id == "saved"


# ---------------------------------------------------------------- with protobuf
@pytest.fixture
def protos():
    pytest.importorskip(
        "google.protobuf", reason="protobuf is not installed (pip install -e '.[dev]')"
    )
    pytest.importorskip(
        "dapr.ext.workflow", reason="Dapr's SDK is not installed (pip install -e '.[dev]')"
    )
    from dapr.ext.workflow._durabletask.internal import protos as pb
    from google.protobuf import json_format

    return json_format, pb


def test_export_is_what_protobuf_writes_for_the_same_messages(runtime, client, protos):
    json_format, pb = protos
    for iid, events in histories(runtime, client).items():
        dicts = interop.to_dapr_dicts(events, instance_id=iid)
        messages = interop.to_protobuf(events, instance_id=iid)
        assert all(isinstance(m, pb.HistoryEvent) for m in messages)
        assert [json_format.MessageToDict(m) for m in messages] == dicts, iid
        as_json = [json.loads(json_format.MessageToJson(m)) for m in messages]
        assert interop.from_dapr(json.dumps(as_json)) == events
        assert interop.from_dapr(messages) == events


def conformance_driver() -> Any:
    pytest.importorskip(
        "dapr.ext.workflow", reason="Dapr's engine is not installed (pip install -e '.[dev]')"
    )
    folder = str(Path(__file__).resolve().parents[1] / "conformance")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        import dapr_driver
    except ImportError as exc:  # pragma: no cover - the driver ships with the tests
        pytest.skip(f"the conformance driver is not available: {exc}")
    return dapr_driver


@pytest.fixture
def on_dapr():
    """Run workflows on Dapr's own engine (the conformance suite's sidecar driver)."""
    global api
    driver = conformance_driver()
    import dapr.ext.workflow as dapr_wf

    sidecar = driver.Sidecar(
        driver.DaprEngine([chain, approval, reminder, child, rich], [double, boom]),
        datetime(2024, 3, 1),
    )
    api = dapr_wf
    try:
        yield sidecar
    finally:
        api = wf


def dapr_json(sidecar: Any, instance_id: str) -> str:
    from google.protobuf import json_format

    history = sidecar.instances[instance_id].engine.history
    return json.dumps([json.loads(json_format.MessageToJson(m)) for m in history])


def test_histories_from_daprs_engine_step_through_with_the_code(on_dapr):
    global api
    sidecar = on_dapr
    sidecar.schedule(chain, 3, instance_id="c")
    sidecar.run_to_end("c")
    sidecar.schedule(approval, 2, instance_id="a")
    sidecar.settle()
    sidecar.raise_event("a", "approval", {"by": "ada"})
    sidecar.run_to_end("a")
    sidecar.schedule(approval, 2, instance_id="t")
    sidecar.run_to_end("t")
    exported = {iid: dapr_json(sidecar, iid) for iid in ("c", "a", "t")}
    reports = sidecar.reports()
    api = wf  # replay with wfkit

    cursor = open_cursor(exported["c"], workflow=chain)
    assert cursor.instance_id == "c"
    done = next(f for f in cursor if f.kind == "TaskCompleted")
    assert done.locals == {"ctx": done.locals["ctx"], "n": 3, "a": 6}
    end = cursor.last()
    assert end.output == reports["c"].result == [6, 12]
    assert end.line == chain.__code__.co_firstlineno + 3  # return [a, b]

    approved = open_cursor(exported["a"], workflow=approval).last()
    assert approved.output == reports["a"].result == ["approved", {"by": "ada"}]
    assert approved.locals["decision"] == {"by": "ada"}
    timed_out = open_cursor(exported["t"], workflow=approval)
    fired = next(f for f in timed_out if f.kind == "TimerFired")
    assert fired.locals["winner"].startswith("<timer #1")
    assert timed_out.last().output == "timed out"

    for iid, fn in (("c", chain), ("a", approval), ("t", approval)):
        assert check_replay(exported[iid], fn).ok, iid

    def chain_edited(ctx, n):
        a = yield ctx.call_activity(double, input=n)
        b = yield ctx.call_activity("triple", input=a)
        return [a, b]

    result = check_replay(exported["c"], chain_edited, recorded_workflow=chain)
    d = result.divergence
    assert d is not None and (d.kind, d.event_id) == ("changed", 2)
    assert d.recorded == "call_activity('double') with task id 2"
    assert d.recorded_line.line == chain.__code__.co_firstlineno + 2  # from the old code
    assert d.current_line.line == chain_edited.__code__.co_firstlineno + 2


def test_wfkit_history_replays_in_daprs_executor(runtime, client, protos):
    driver = conformance_driver()
    from dapr.ext.workflow._durabletask import worker as dapr_worker

    global api
    iid = client.schedule_new_workflow(approval, input=2, instance_id="to-dapr")
    settle(runtime)
    client.raise_workflow_event(iid, "approval", data={"by": "ada"})
    complete(client, iid)
    events = raw_history(runtime, iid)
    messages = interop.to_protobuf(events, instance_id=iid)
    last_episode = max(i for i, e in enumerate(events) if e.kind == "WorkflowStarted")
    old, new = messages[:last_episode], messages[last_episode:-1]  # Dapr decides the end
    import dapr.ext.workflow as dapr_wf

    engine = driver.DaprEngine([approval], [double])
    api = dapr_wf
    try:
        executor = dapr_worker._OrchestrationExecutor(engine.registry, driver._QUIET)
        results = executor.execute(iid, old, new)
    finally:
        api = wf
    (action,) = results.actions
    done = action.completeWorkflow
    assert driver.ph.get_orchestration_status_str(done.workflowStatus) == "COMPLETED"
    assert json.loads(done.result.value) == ["approved", {"by": "ada"}]


# ---------------------------------------------------------------- get_workflow_history
def test_client_history_without_payloads_steps_through(runtime, client):
    iid = client.schedule_new_workflow(reminder, instance_id="lossy")
    complete(client, iid)  # the timer wins
    listed = client.get_workflow_history(iid)
    events = interop.from_workflow_history(listed)
    assert len(events) == len(listed)
    fired = next(e for e in events if isinstance(e, TimerFired))
    assert fired.timer_id == -1  # the client's history does not say which timer fired

    cursor = open_cursor(listed, workflow=reminder)
    assert cursor.history.lossy
    frames = list(cursor)
    resolved = next(e for e in cursor.events if isinstance(e, TimerFired))
    assert resolved.timer_id == 2  # the replay worked it out from the code
    assert resolved.fire_at == datetime(2025, 1, 1, 2, 0)
    created = [e for e in cursor.events if e.kind == "TimerCreated"]
    assert [e.origin for e in created] == ["external_event", "create_timer"]
    assert frames[-1].output == "timed out"
    assert check_replay(listed, reminder).ok


def test_daprs_client_history_objects_are_read_too(on_dapr):
    driver = conformance_driver()
    from dapr.ext.workflow.workflow_management import WorkflowHistoryEvent as DaprEvent

    sidecar = on_dapr
    sidecar.schedule(reminder, None, instance_id="d")
    sidecar.run_to_end("d")
    global api
    api = wf
    listed = [DaprEvent._from_proto(m) for m in sidecar.instances["d"].engine.history]
    cursor = open_cursor(listed, workflow=reminder)
    assert cursor.last().output == "timed out"
    assert [e.kind for e in cursor.events][:3] == [
        "WorkflowStarted",
        "ExecutionStarted",
        "TimerCreated",
    ]
    assert driver is not None
