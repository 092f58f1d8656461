"""Cold replay: a history replayed from the start against the workflow code reproduces the
instance; edited code that decides differently fails with NonDeterminismError."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from support import complete, output, raw_history, settle

import wfkit as wf
from wfkit.core._history import HistoryEvent, TaskScheduled, TimerCreated
from wfkit.core._orchestration import Orchestration
from wfkit.core._registry import Registered
from wfkit.store import MemoryStore

#: ctx.is_replaying as the workflows below saw it, in order.
seen: list[bool] = []


def inc(ctx, n: int) -> int:
    return n + 1


def child(ctx: wf.DaprWorkflowContext, n: int):
    seen.append(ctx.is_replaying)
    value = yield ctx.call_activity(inc, input=n)
    return value * 10


def rich(ctx: wf.DaprWorkflowContext, n: int):
    seen.append(ctx.is_replaying)
    a = yield ctx.call_activity(inc, input=n)
    seen.append(ctx.is_replaying)
    yield ctx.create_timer(timedelta(hours=1))
    seen.append(ctx.is_replaying)
    b = yield wf.when_all(
        [ctx.call_activity(inc, input=a), ctx.call_child_workflow(child, input=a)]
    )
    seen.append(ctx.is_replaying)
    guid = str(ctx.new_guid())
    event = ctx.wait_for_external_event("go")
    winner = yield wf.when_any([event, ctx.create_timer(timedelta(days=2))])
    seen.append(ctx.is_replaying)
    ev = event.get_result() if winner is event else "timeout"
    ctx.set_custom_status({"ev": ev})
    return {"a": a, "b": b, "guid": guid, "ev": ev, "at": ctx.current_utc_datetime.isoformat()}


@pytest.fixture(autouse=True)
def _clear_seen():
    seen.clear()


def register(wfr: wf.WorkflowRuntime) -> None:
    wfr.register_workflow(rich)
    wfr.register_workflow(child)
    wfr.register_activity(inc)


def resolver(**workflows: Callable[..., Any]) -> Callable[[str], Registered]:
    """A workflow lookup serving ``workflows`` under the given names."""
    entries = {name: Registered.of(fn, name) for name, fn in workflows.items()}
    return entries.__getitem__


def replay(
    instance_id: str, events: list[HistoryEvent], resolve: Callable[[str], Any]
) -> Orchestration:
    orchestration = Orchestration(instance_id, resolve)
    for position, event in enumerate(events):
        orchestration.apply(event, replaying=True, position=position)
    return orchestration


# ---------------------------------------------------------------- replaying what happened
def test_cold_replay_of_a_finished_instance_reproduces_its_outcome(wfr, client):
    register(wfr)
    iid = client.schedule_new_workflow(rich, input=1, instance_id="r")
    settle(wfr)
    client.raise_workflow_event(iid, "go", data={"ok": True})
    state = complete(client, iid)
    assert output(state)["b"] == [3, 30]
    assert seen == [False] * 6  # five in the parent, one in the child: all live

    seen.clear()
    events = raw_history(wfr, iid)
    orchestration = replay(iid, events, wfr._registry.workflow)
    assert seen == [True] * 5  # the child is not re-run: its result comes from history
    outcome = orchestration.outcome
    assert outcome is not None
    assert outcome.status == "COMPLETED"
    assert outcome.result == state.serialized_output  # same GUID, same virtual time
    assert orchestration.custom_status == state.serialized_custom_status
    assert orchestration.take_decisions() == []
    # the event was raised early and buffered, so the wait made no timer; the 2-day timer
    # lost the race and stays pending, as on the live run
    assert list(orchestration.pending_tasks) == [5]
    assert orchestration.ctx.is_replaying


def test_cold_replay_of_a_failed_instance_reproduces_the_failure(wfr, client):
    def fails_late(ctx: wf.DaprWorkflowContext, n: int):
        a = yield ctx.call_activity(inc, input=n)
        yield ctx.create_timer(timedelta(minutes=a))
        raise ArithmeticError(f"gave up at {a}")

    wfr.register_workflow(fails_late)
    wfr.register_activity(inc)
    iid = client.schedule_new_workflow(fails_late, input=4)
    state = complete(client, iid)
    assert state.runtime_status is wf.WorkflowStatus.FAILED
    orchestration = replay(iid, raw_history(wfr, iid), wfr._registry.workflow)
    failure = orchestration.outcome.failure
    assert orchestration.outcome.status == "FAILED"
    assert (failure.error_type, failure.message) == ("ArithmeticError", "gave up at 5")
    assert failure.message == state.failure_details.message


def test_cold_replay_of_a_running_instance_has_the_same_pending_state(wfr, client):
    register(wfr)
    wfr.clock.auto_skip = False
    iid = client.schedule_new_workflow(rich, input=1, instance_id="r")
    settle(wfr)
    wfr.clock.advance(timedelta(hours=1))
    assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.RUNNING
    prefix = raw_history(wfr, iid)

    cold = replay(iid, prefix, wfr._registry.workflow)
    warm = wfr._engine._live[iid].orchestration
    assert cold.outcome is None
    assert cold.take_decisions() == []
    assert sorted(cold.pending_tasks) == sorted(warm.pending_tasks) == [5, 6]
    assert cold.waiting_for_events == warm.waiting_for_events == ["go"]
    fire_times = {t: task.fire_at for t, task in cold.pending_tasks.items()}
    assert fire_times == {t: task.fire_at for t, task in warm.pending_tasks.items()}

    # fed the rest of the history as new events, the cold copy ends like the live one
    client.raise_workflow_event(iid, "go", data="late")
    state = complete(client, iid)
    for event in raw_history(wfr, iid)[len(prefix) :]:
        cold.apply(event, replaying=False)
    assert not cold.ctx.is_replaying
    assert cold.outcome.status == "COMPLETED"
    assert cold.outcome.result == state.serialized_output
    assert output(state)["ev"] == "late"


def test_replaying_the_monitor_seed_prints_nothing(wfr, client, monkeypatch, capsys):
    from seeds import monitor

    monkeypatch.setattr(monitor, "random", type("R", (), {"choice": staticmethod(min)}))
    wfr.clock.auto_skip = False
    wfr.register_workflow(monitor.status_monitor_workflow)
    wfr.register_activity(monitor.check_status)
    iid = client.schedule_new_workflow(
        monitor.status_monitor_workflow, input=monitor.JobStatus("j", True)
    )
    settle(wfr)
    assert capsys.readouterr().out == "Job 'j' is healthy.\n"  # live: printed once
    orchestration = replay(iid, raw_history(wfr, iid), wfr._registry.workflow)
    assert orchestration.outcome is None
    assert capsys.readouterr().out == ""  # replaying: `if not ctx.is_replaying` skips it
    client.terminate_workflow(iid)


# ---------------------------------------------------------------- edited code
def original(ctx: wf.DaprWorkflowContext, n: int):
    a = yield ctx.call_activity(inc, input=n)
    yield ctx.create_timer(timedelta(minutes=1))
    b = yield ctx.call_activity(inc, input=a)
    return b


def renamed(ctx: wf.DaprWorkflowContext, n: int):
    a = yield ctx.call_activity(inc, input=n)
    yield ctx.create_timer(timedelta(minutes=1))
    b = yield ctx.call_activity("increment", input=a)
    return b


def inserted(ctx: wf.DaprWorkflowContext, n: int):
    a = yield ctx.call_activity(inc, input=n)
    a = yield ctx.call_activity(inc, input=a)
    yield ctx.create_timer(timedelta(minutes=1))
    b = yield ctx.call_activity(inc, input=a)
    return b


def timer_to_activity(ctx: wf.DaprWorkflowContext, n: int):
    a = yield ctx.call_activity(inc, input=n)
    yield ctx.call_activity("wait_a_minute", input=60)
    b = yield ctx.call_activity(inc, input=a)
    return b


def removed(ctx: wf.DaprWorkflowContext, n: int):
    a = yield ctx.call_activity(inc, input=n)
    return a


def appended(ctx: wf.DaprWorkflowContext, n: int):
    b = yield from original(ctx, n)
    c = yield ctx.call_activity(inc, input=b)
    return c


@pytest.fixture
def finished(wfr, client) -> tuple[str, list[HistoryEvent]]:
    wfr.register_workflow(original)
    wfr.register_activity(inc)
    iid = client.schedule_new_workflow(original, input=1)
    assert output(complete(client, iid)) == 3
    return iid, raw_history(wfr, iid)


def position_of(events: list[HistoryEvent], kind: type, task_id: int) -> int:
    return next(i for i, e in enumerate(events) if isinstance(e, kind) and e.event_id == task_id)


def divergence(iid: str, events: list[HistoryEvent], edited: Callable[..., Any]) -> str:
    orchestration = replay(iid, events, resolver(original=edited))
    outcome = orchestration.outcome
    assert outcome is not None and outcome.status == "FAILED", outcome
    assert outcome.failure.error_type == "NonDeterminismError"
    return outcome.failure.message


def test_the_unedited_code_replays_cleanly(finished):
    iid, events = finished
    orchestration = replay(iid, events, resolver(original=original))
    assert orchestration.outcome.status == "COMPLETED"
    assert orchestration.outcome.result == "3"


def test_a_renamed_activity_is_a_divergence(finished):
    iid, events = finished
    message = divergence(iid, events, renamed)
    at = position_of(events, TaskScheduled, 3)
    assert f"history event {at} (TaskScheduled)" in message
    assert "records call_activity('inc') with task id 3" in message
    assert "the code now calls call_activity('increment') with task id 3" in message


def test_an_inserted_step_is_a_divergence(finished):
    iid, events = finished
    message = divergence(iid, events, inserted)
    at = position_of(events, TimerCreated, 2)
    assert f"history event {at} (TimerCreated)" in message
    assert "records create_timer(2025-01-01T00:01:00) with task id 2" in message
    assert "the code now calls call_activity('inc') with task id 2" in message


def test_a_timer_turned_into_an_activity_is_a_divergence(finished):
    iid, events = finished
    message = divergence(iid, events, timer_to_activity)
    at = position_of(events, TimerCreated, 2)
    assert f"history event {at} (TimerCreated)" in message
    assert "records create_timer(" in message
    assert "the code now calls call_activity('wait_a_minute') with task id 2" in message


def test_a_removed_step_is_a_divergence(finished):
    iid, events = finished
    message = divergence(iid, events, removed)
    at = position_of(events, TimerCreated, 2)
    assert f"history event {at} (TimerCreated)" in message
    assert "the code makes no call with task id 2" in message


def test_an_appended_step_is_a_divergence(finished):
    iid, events = finished
    message = divergence(iid, events, appended)
    assert f"history event {len(events) - 1} (ExecutionCompleted)" in message
    assert "call_activity('inc') with task id 4" in message


def test_a_changed_wait_is_a_divergence(wfr, client):
    def waits(ctx: wf.DaprWorkflowContext, _):
        return (yield ctx.wait_for_external_event("approve"))

    def waits_for_another(ctx: wf.DaprWorkflowContext, _):
        return (yield ctx.wait_for_external_event("reject"))

    wfr.register_workflow(waits)
    iid = client.schedule_new_workflow(waits)
    settle(wfr)
    client.raise_workflow_event(iid, "approve", data=1)
    complete(client, iid)
    events = raw_history(wfr, iid)
    orchestration = replay(iid, events, resolver(waits=waits_for_another))
    failure = orchestration.outcome.failure
    assert failure.error_type == "NonDeterminismError"
    assert "wait_for_external_event('approve') with task id 1" in failure.message
    assert "the code now calls wait_for_external_event('reject')" in failure.message


def test_the_first_divergence_is_the_one_reported(finished):
    iid, events = finished

    def all_different(ctx: wf.DaprWorkflowContext, n: int):
        yield ctx.call_activity("other", input=n)
        yield ctx.call_activity("another", input=n)
        yield ctx.call_activity("yet_another", input=n)

    message = divergence(iid, events, all_different)
    assert "records call_activity('inc') with task id 1" in message
    assert "call_activity('other')" in message
    assert "another" not in message


def test_a_restart_replays_running_instances_and_edited_code_fails_them():
    """Instances a stopped runtime left running resume on a new runtime over the same
    store; those whose workflow code changed meanwhile fail with NonDeterminismError."""
    store = MemoryStore()

    def make_runtime(code: Callable[..., Any], auto_skip: bool) -> wf.WorkflowRuntime:
        def stable(ctx: wf.DaprWorkflowContext, n: int):
            return (yield from original(ctx, n))

        def changing(ctx: wf.DaprWorkflowContext, n: int):
            return (yield from code(ctx, n))

        clock = wf.VirtualClock(datetime(2025, 1, 1), auto_skip=auto_skip, flow=False)
        wfr = wf.WorkflowRuntime(clock=clock, store=store)
        wfr.register_workflow(stable)
        wfr.register_workflow(changing)
        wfr.register_activity(inc)
        wfr.start()
        return wfr

    wfr = make_runtime(original, auto_skip=False)
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("stable", input=1, instance_id="stable")
    client.schedule_new_workflow("changing", input=1, instance_id="changing")
    settle(wfr)
    wfr.shutdown()
    for iid in ("stable", "changing"):
        assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.RUNNING
        assert [type(s.event).__name__ for s in store.history(iid)][-1:] == ["TimerCreated"]

    wfr = make_runtime(inserted, auto_skip=True)
    try:
        client = wf.DaprWorkflowClient(wfr)
        assert output(complete(client, "stable")) == 3
        state = complete(client, "changing")
        assert state.runtime_status is wf.WorkflowStatus.FAILED
        assert state.failure_details.error_type == "NonDeterminismError"
        assert "(TimerCreated) records create_timer(" in state.failure_details.message
        assert "the code now calls call_activity('inc') with task id 2" in (
            state.failure_details.message
        )
    finally:
        wfr.shutdown()


def test_a_history_edited_by_hand_is_caught_too(finished):
    """Replaying checks the code against the history, whichever of the two changed."""
    iid, events = finished
    at = position_of(events, TaskScheduled, 3)
    forged = list(events)
    forged[at] = TaskScheduled(
        timestamp=events[at].timestamp, task_id=3, activity_name="transfer_money"
    )
    orchestration = replay(iid, forged, resolver(original=original))
    assert "records call_activity('transfer_money') with task id 3" in (
        orchestration.outcome.failure.message
    )


def test_commands_before_start_reach_instances_restored_from_the_store():
    store = MemoryStore()

    def make_runtime() -> wf.WorkflowRuntime:
        wfr = wf.WorkflowRuntime(
            clock=wf.VirtualClock(datetime(2025, 1, 1), flow=False), store=store
        )
        wfr.register_workflow(waiting_workflow)
        return wfr

    wfr = make_runtime()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(waiting_workflow, instance_id="w")
    settle(wfr)
    wfr.shutdown()

    wfr = make_runtime()
    client = wf.DaprWorkflowClient(wfr)
    with pytest.raises(wf.InstanceExistsError):
        client.schedule_new_workflow(waiting_workflow, instance_id="w")
    client.raise_workflow_event("w", "go", data="before start")
    wfr.start()
    try:
        assert output(complete(client, "w")) == "before start"
    finally:
        wfr.shutdown()


def waiting_workflow(ctx: wf.DaprWorkflowContext, _):
    return (yield ctx.wait_for_external_event("go"))
