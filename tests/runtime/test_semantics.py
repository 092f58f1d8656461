"""Semantics of Dapr's engine that wfkit reproduces, and the flaws of it that wfkit fixes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import threading
import time
import uuid
import warnings
from datetime import timedelta
from typing import Any

import pytest
from support import (
    WAIT,
    complete,
    complete_by_timeout,
    kinds,
    output,
    raw_history,
    scheduled,
    settle,
    snapshot,
    until,
)

import wfkit as wf
from wfkit.core import _serde
from wfkit.core._history import OPTIONAL_TIMER_FIRE_AT, EventRaised, TimerCreated, WorkflowStarted

RUNNING = wf.WorkflowStatus.RUNNING
COMPLETED = wf.WorkflowStatus.COMPLETED
FAILED = wf.WorkflowStatus.FAILED
TERMINATED = wf.WorkflowStatus.TERMINATED
SUSPENDED = wf.WorkflowStatus.SUSPENDED


def echo(ctx, value: Any) -> Any:
    return value


def run(wfr, client, workflow, *, input: Any = None, instance_id: str | None = None):
    wfr.register_workflow(workflow)
    wfr.register_activity(echo)
    iid = client.schedule_new_workflow(workflow, input=input, instance_id=instance_id)
    return iid, complete(client, iid)


# ---------------------------------------------------------------- instance ids
def test_an_instance_id_left_out_is_a_fresh_version_4_uuid_in_hex(wfr, client):
    def nothing(ctx, _):
        return None

    wfr.register_workflow(nothing)
    ids = [client.schedule_new_workflow(nothing) for _ in range(200)]
    parsed = [uuid.UUID(hex=iid) for iid in ids]
    assert [u.hex for u in parsed] == ids  # 32 lower-case hex digits, as uuid4().hex
    assert {(u.version, u.variant) for u in parsed} == {(4, uuid.RFC_4122)}
    assert len(set(ids)) == len(ids)


def test_instance_ids_do_not_repeat_when_the_notebook_seeds_random(wfr, client):
    """A notebook that calls ``random.seed(0)`` before each run must not get the same
    ids again: on a file store they would collide with the last run's instances."""

    def nothing(ctx, _):
        return None

    wfr.register_workflow(nothing)
    runs = []
    for _ in range(2):
        random.seed(0)
        runs.append([client.schedule_new_workflow(nothing) for _ in range(3)])
    assert not set(runs[0]) & set(runs[1])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_process_draws_instance_ids_of_its_own():
    from wfkit.core._state import random_instance_id

    read, write = os.pipe()
    with warnings.catch_warnings():  # forking a process with threads: the child only writes
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child
        os.write(write, random_instance_id().encode())
        os._exit(0)
    os.close(write)
    parent_id = random_instance_id()
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child_id = pipe.read()
    assert len(child_id) == 32
    assert child_id != parent_id


# ---------------------------------------------------------------- task ids
def test_task_ids_count_1_2_3_per_instance_including_timers_and_event_waits(wfr, client):
    def numbered(ctx: wf.DaprWorkflowContext, _):
        yield ctx.call_activity(echo, input=1)
        yield ctx.create_timer(timedelta(minutes=5))
        # an indefinite wait reserves a task id for an optional timer, as Dapr 1.19 does
        yield ctx.wait_for_external_event("go")
        yield ctx.wait_for_external_event("go", timeout=timedelta(hours=1))
        yield ctx.call_activity(echo, input=2)
        return "done"

    wfr.register_workflow(numbered)
    wfr.register_activity(echo)
    ids = [client.schedule_new_workflow(numbered) for _ in range(2)]
    for iid in ids:
        settle(wfr)
        wfr.clock.advance(timedelta(minutes=5))
        client.raise_workflow_event(iid, "go", data=1)
        client.raise_workflow_event(iid, "go", data=2)
    for iid in ids:
        assert complete(client, iid).runtime_status is COMPLETED
        assert scheduled(client, iid) == [
            ("taskScheduled", 1, "echo"),
            ("timerCreated", 2, None),
            ("timerCreated", 3, None),
            ("timerCreated", 4, None),
            ("taskScheduled", 5, "echo"),
        ]
        timers = [e for e in raw_history(wfr, iid) if isinstance(e, TimerCreated)]
        assert timers[1].fire_at == OPTIONAL_TIMER_FIRE_AT
        assert timers[1].is_optional and not timers[2].is_optional
        assert timers[2].origin == "external_event"


# ---------------------------------------------------------------- when_all / when_any
def test_when_all_returns_results_in_task_order_not_completion_order(wfr, client):
    def gather(ctx: wf.DaprWorkflowContext, _):
        tasks = [ctx.wait_for_external_event(n) for n in ("a", "b", "c")]
        tasks.append(ctx.call_activity(echo, input="d"))
        return (yield wf.when_all(tasks))

    wfr.register_workflow(gather)
    wfr.register_activity(echo)
    iid = client.schedule_new_workflow(gather)
    settle(wfr)
    for name in ("c", "b", "a"):
        client.raise_workflow_event(iid, name, data=name.upper())
    assert output(complete(client, iid)) == ["A", "B", "C", "d"]


def test_when_all_of_nothing_is_an_empty_list(wfr, client):
    def nothing(ctx: wf.DaprWorkflowContext, _):
        return (yield wf.when_all([]))

    _, state = run(wfr, client, nothing)
    assert output(state) == []


def test_when_all_waits_for_every_task_then_raises_the_first_failure(wfr, client):
    gates = {name: threading.Event() for name in ("slow", "late_failure")}

    def work(ctx, name: str) -> str:
        if name in gates:
            assert gates[name].wait(WAIT)
        if "failure" in name:
            raise RuntimeError(f"{name} broke")
        return name

    def gather(ctx: wf.DaprWorkflowContext, _):
        tasks = [
            ctx.call_activity(work, input=n) for n in ("slow", "late_failure", "early_failure")
        ]
        try:
            yield wf.when_all(tasks)
        except wf.TaskFailedError as error:
            done = [t.is_complete for t in tasks]
            return {"error": str(error), "all_done": done, "slow": tasks[0].get_result()}
        return "no failure"

    wfr.register_workflow(gather)
    wfr.register_activity(work)
    iid = client.schedule_new_workflow(gather)

    def failed() -> int:
        return kinds(client, iid).count("taskFailed")

    until(lambda: failed() == 1)  # early_failure
    gates["late_failure"].set()
    until(lambda: failed() == 2)
    # two of three failed, but the workflow still waits for the slow one
    assert client.get_workflow_state(iid).runtime_status is RUNNING
    assert "executionCompleted" not in kinds(client, iid)
    gates["slow"].set()
    result = output(complete(client, iid))
    assert "early_failure broke" in result["error"]  # the first to fail, not the first listed
    assert result["all_done"] == [True, True, True]
    assert result["slow"] == "slow"


def test_when_any_returns_the_winning_task_object(wfr, client):
    def race(ctx: wf.DaprWorkflowContext, _):
        event = ctx.wait_for_external_event("ping")
        timer = ctx.create_timer(timedelta(hours=1))
        winner = yield wf.when_any([event, timer])
        return {
            "event_won": winner is event,
            "timer_won": winner == timer,
            "value": winner.get_result(),
        }

    wfr.register_workflow(race)
    iid = client.schedule_new_workflow(race)
    settle(wfr)
    client.raise_workflow_event(iid, "ping", data={"n": 1})
    assert output(complete(client, iid)) == {
        "event_won": True,
        "timer_won": False,
        "value": {"n": 1},
    }

    iid = client.schedule_new_workflow(race)
    assert output(complete_by_timeout(client, iid)) == {
        "event_won": False,
        "timer_won": True,
        "value": None,
    }


# ---------------------------------------------------------------- external events
def test_events_are_case_insensitive_fifo_and_buffered_until_awaited(wfr, client):
    def collect(ctx: wf.DaprWorkflowContext, _):
        yield ctx.create_timer(timedelta(hours=1))
        first = yield ctx.wait_for_external_event("Approval")
        second = yield ctx.wait_for_external_event("approval")
        third = yield ctx.wait_for_external_event("APPROVAL")
        return [first, second, third]

    wfr.clock.auto_skip = False
    wfr.register_workflow(collect)
    iid = client.schedule_new_workflow(collect)
    # raised before anyone waits: buffered, then delivered in the order raised
    client.raise_workflow_event(iid, "approval", data="one")
    client.raise_workflow_event(iid, "APPROVAL", data="two")
    settle(wfr)
    assert client.get_workflow_state(iid).runtime_status is RUNNING
    wfr.clock.advance(timedelta(hours=1))
    assert client.get_workflow_state(iid).runtime_status is RUNNING
    client.raise_workflow_event(iid, "aPpRoVaL", data="three")
    assert output(complete(client, iid)) == ["one", "two", "three"]
    raised = [e.event_name for e in raw_history(wfr, iid) if isinstance(e, EventRaised)]
    assert raised == ["approval", "APPROVAL", "aPpRoVaL"]


def test_several_waits_for_one_name_are_served_in_order(wfr, client):
    def pair(ctx: wf.DaprWorkflowContext, _):
        a = ctx.wait_for_external_event("x")
        b = ctx.wait_for_external_event("x")
        return (yield wf.when_all([b, a]))

    wfr.register_workflow(pair)
    iid = client.schedule_new_workflow(pair)
    settle(wfr)
    client.raise_workflow_event(iid, "x", data=1)
    client.raise_workflow_event(iid, "X", data=2)
    assert output(complete(client, iid)) == [2, 1]


def test_wait_with_timeout_raises_timeout_error_when_the_timer_wins(wfr, client):
    def patient(ctx: wf.DaprWorkflowContext, _):
        try:
            value = yield ctx.wait_for_external_event("reply", timeout=timedelta(minutes=30))
        except TimeoutError as error:
            return {"timed_out": str(error), "at": ctx.current_utc_datetime.isoformat()}
        return {"value": value}

    def impatient(ctx: wf.DaprWorkflowContext, _):
        return (yield ctx.wait_for_external_event("reply", timeout=timedelta(minutes=30)))

    wfr.register_workflow(patient)
    wfr.register_workflow(impatient)
    t0 = wfr.clock.now()
    iid = client.schedule_new_workflow(patient)
    result = output(complete_by_timeout(client, iid))
    assert "reply" in result["timed_out"]
    assert result["at"] == (t0 + timedelta(minutes=30)).isoformat()

    iid = client.schedule_new_workflow(patient)
    settle(wfr)
    client.raise_workflow_event(iid, "reply", data="hi")
    assert output(complete(client, iid)) == {"value": "hi"}

    iid = client.schedule_new_workflow(impatient)
    state = complete_by_timeout(client, iid)
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "TimeoutError"
    assert "reply" in state.failure_details.message


@pytest.mark.parametrize("save_events", [True, False])
def test_continue_as_new_carries_unconsumed_events_only_with_save_events(wfr, client, save_events):
    def generations(ctx: wf.DaprWorkflowContext, generation: int):
        if generation == 0:
            yield ctx.create_timer(timedelta(hours=1))
            ctx.continue_as_new(1, save_events=save_events)
            return
        try:
            value = yield ctx.wait_for_external_event("note", timeout=timedelta(hours=1))
        except TimeoutError:
            value = "no note"
        return {"generation": generation, "note": value}

    wfr.register_workflow(generations)
    iid = client.schedule_new_workflow(generations, input=0)
    settle(wfr)
    client.raise_workflow_event(iid, "note", data="kept")  # nobody waits for it in generation 0
    state = complete(client, iid) if save_events else complete_by_timeout(client, iid)
    assert state.serialized_input == "1"
    if save_events:
        assert output(state) == {"generation": 1, "note": "kept"}
        carried = [e for e in raw_history(wfr, iid) if isinstance(e, EventRaised)]
        assert [(e.event_name, e.input) for e in carried] == [("note", '"kept"')]
    else:
        assert output(state) == {"generation": 1, "note": "no note"}
        assert "eventRaised" not in kinds(client, iid)
    # the history holds only the last generation
    assert kinds(client, iid)[:2] == ["workflowStarted", "executionStarted"]
    assert kinds(client, iid).count("executionStarted") == 1


# ---------------------------------------------------------------- suspend / resume / terminate
def waiter(ctx: wf.DaprWorkflowContext, _):
    value = yield ctx.wait_for_external_event("go")
    return value


def test_suspended_instance_buffers_events_and_timers_until_resumed(wfr, client):
    def timed(ctx: wf.DaprWorkflowContext, _):
        yield ctx.create_timer(timedelta(hours=1))
        value = yield ctx.wait_for_external_event("go")
        return value

    wfr.clock.auto_skip = False
    wfr.register_workflow(timed)
    iid = client.schedule_new_workflow(timed)
    settle(wfr)
    client.pause_workflow(iid)
    assert client.get_workflow_state(iid).runtime_status is SUSPENDED
    wfr.clock.advance(timedelta(hours=2))
    client.raise_workflow_event(iid, "go", data="released")
    settle(wfr)
    state = client.get_workflow_state(iid)
    assert state.runtime_status is SUSPENDED
    assert state.serialized_output is None
    client.pause_workflow(iid)  # pausing again changes nothing
    assert client.get_workflow_state(iid).runtime_status is SUSPENDED

    client.resume_workflow(iid)
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert output(state) == "released"
    history = kinds(client, iid)
    assert history.index("executionSuspended") < history.index("timerFired")
    assert history.index("eventRaised") < history.index("executionResumed")
    assert history.count("executionSuspended") == 1


def test_terminating_a_suspended_instance_works(wfr, client):
    wfr.register_workflow(waiter)
    iid = client.schedule_new_workflow(waiter)
    settle(wfr)
    client.pause_workflow(iid)
    client.terminate_workflow(iid, output="stopped")
    state = client.get_workflow_state(iid)
    assert state.runtime_status is TERMINATED
    assert output(state) == "stopped"


def test_resume_on_an_instance_that_is_not_suspended_changes_nothing(wfr, client):
    wfr.register_workflow(waiter)
    iid = client.schedule_new_workflow(waiter)
    settle(wfr)
    before = snapshot(wfr)
    client.resume_workflow(iid)
    settle(wfr)
    assert snapshot(wfr) == before
    assert client.get_workflow_state(iid).runtime_status is RUNNING

    client.raise_workflow_event(iid, "go", data=1)
    complete(client, iid)
    before = snapshot(wfr)
    client.resume_workflow(iid)  # finished: still nothing
    assert snapshot(wfr) == before
    assert client.get_workflow_state(iid).runtime_status is COMPLETED


def parent_of_waiters(ctx: wf.DaprWorkflowContext, _):
    first = ctx.call_child_workflow(waiter)
    second = ctx.call_child_workflow(waiter)
    return (yield wf.when_all([first, second]))


@pytest.mark.parametrize("recursive", [True, False])
def test_terminate_reaches_child_workflows_unless_not_recursive(wfr, client, recursive):
    wfr.register_workflow(waiter)
    wfr.register_workflow(parent_of_waiters)
    iid = client.schedule_new_workflow(parent_of_waiters, instance_id="parent")
    settle(wfr)
    children = ["parent:0001", "parent:0002"]
    assert [client.get_workflow_state(c).runtime_status for c in children] == [RUNNING] * 2

    client.terminate_workflow(iid, output={"by": "test"}, recursive=recursive)
    settle(wfr)
    state = client.get_workflow_state(iid)
    assert state.runtime_status is TERMINATED
    assert output(state) == {"by": "test"}
    expected = TERMINATED if recursive else RUNNING
    assert [client.get_workflow_state(c).runtime_status for c in children] == [expected] * 2
    if recursive:
        assert output(client.get_workflow_state(children[0])) == {"by": "test"}
    else:
        client.raise_workflow_event(children[0], "go", data=5)
        assert output(complete(client, children[0])) == 5
        # the parent is gone: its history does not change
        assert "childWorkflowInstanceCompleted" not in kinds(client, iid)


def test_purge_refuses_a_running_instance_and_is_recursive(wfr, client):
    wfr.register_workflow(waiter)
    wfr.register_workflow(parent_of_waiters)
    iid = client.schedule_new_workflow(parent_of_waiters, instance_id="parent")
    settle(wfr)
    with pytest.raises(wf.InvalidInstanceStateError):
        client.purge_workflow(iid)
    for child in ("parent:0001", "parent:0002"):
        client.raise_workflow_event(child, "go", data=child)
    assert output(complete(client, iid)) == ["parent:0001", "parent:0002"]
    other = client.schedule_new_workflow(parent_of_waiters, instance_id="other")
    settle(wfr)
    client.terminate_workflow(other)

    assert client.purge_workflow(iid) == 3
    for gone in (iid, "parent:0001", "parent:0002"):
        assert client.get_workflow_state(gone) is None
        with pytest.raises(wf.InstanceNotFoundError):
            client.get_workflow_history(gone)
    assert client.list_workflow_instance_ids().instance_ids == [
        "other",
        "other:0001",
        "other:0002",
    ]
    assert client.purge_workflow("other", recursive=False) == 1
    assert client.list_workflow_instance_ids().instance_ids == ["other:0001", "other:0002"]


# ---------------------------------------------------------------- time and determinism
def test_current_utc_datetime_is_the_virtual_time_of_the_episode(wfr, client):
    def clocked(ctx: wf.DaprWorkflowContext, _):
        seen = [ctx.current_utc_datetime.isoformat()]
        yield ctx.create_timer(timedelta(days=1, hours=2))
        seen.append(ctx.current_utc_datetime.isoformat())
        yield ctx.call_activity(echo, input=None)
        seen.append(ctx.current_utc_datetime.isoformat())
        return seen

    t0 = wfr.clock.now()
    wfr.clock.advance(timedelta(hours=3))
    iid, state = run(wfr, client, clocked)
    start, after_timer = t0 + timedelta(hours=3), t0 + timedelta(days=1, hours=5)
    assert output(state) == [start.isoformat(), after_timer.isoformat(), after_timer.isoformat()]
    episodes = [e.timestamp for e in raw_history(wfr, iid) if isinstance(e, WorkflowStarted)]
    assert episodes == [start, after_timer, after_timer]
    assert state.created_at == start
    assert state.last_updated_at == after_timer


def test_timers_of_several_instances_fire_at_their_own_times(wfr, client):
    def sleeper(ctx: wf.DaprWorkflowContext, hours: int):
        yield ctx.create_timer(timedelta(hours=hours))
        return ctx.current_utc_datetime.isoformat()

    wfr.clock.auto_skip = False
    wfr.register_workflow(sleeper)
    t0 = wfr.clock.now()
    ids = [client.schedule_new_workflow(sleeper, input=h) for h in (3, 1, 2)]
    settle(wfr)
    assert [t.fire_at - t0 for t in wfr.clock.pending_timers()] == [
        timedelta(hours=h) for h in (1, 2, 3)
    ]
    wfr.clock.advance(timedelta(hours=5))
    results = [output(complete(client, i)) for i in ids]
    assert results == [(t0 + timedelta(hours=h)).isoformat() for h in (3, 1, 2)]


def test_everything_due_at_one_instant_runs_before_time_moves_on(wfr, client):
    def slow(ctx, _) -> None:
        time.sleep(0.02)  # a real activity, running while a later timer is pending

    def steps(ctx: wf.DaprWorkflowContext, _):
        yield ctx.create_timer(timedelta(hours=1))
        yield ctx.call_activity(slow)
        after = ctx.current_utc_datetime
        yield ctx.create_timer(timedelta(hours=1))
        return after.isoformat()

    def sleeper(ctx: wf.DaprWorkflowContext, _):
        yield ctx.create_timer(timedelta(hours=1, minutes=30))
        return ctx.current_utc_datetime.isoformat()

    wfr.register_workflow(steps)
    wfr.register_workflow(sleeper)
    wfr.register_activity(slow)
    t0 = wfr.clock.now()
    first = client.schedule_new_workflow(steps)
    second = client.schedule_new_workflow(sleeper)
    # auto-skip while waiting for the second: the first instance's activity finishes at
    # +1 h before the clock jumps to the +1.5 h timer
    assert output(complete(client, second)) == (t0 + timedelta(hours=1, minutes=30)).isoformat()
    assert output(complete(client, first)) == (t0 + timedelta(hours=1)).isoformat()
    assert wfr.clock.now() == t0 + timedelta(hours=2)


def test_activity_called_without_yield_is_still_scheduled(wfr, client):
    notes: list[str] = []

    def note(ctx, text: str) -> None:
        notes.append(text)

    def fire_and_forget(ctx: wf.DaprWorkflowContext, _):
        ctx.call_activity(note, input="sent without yield")
        value = yield ctx.wait_for_external_event("go")
        return value

    wfr.register_workflow(fire_and_forget)
    wfr.register_activity(note)
    iid = client.schedule_new_workflow(fire_and_forget)
    settle(wfr)
    assert notes == ["sent without yield"]
    client.raise_workflow_event(iid, "go", data="finished")
    assert output(complete(client, iid)) == "finished"
    assert scheduled(client, iid) == [("taskScheduled", 1, "note"), ("timerCreated", 2, None)]
    assert "taskCompleted" in kinds(client, iid)


def test_custom_status_is_reported_while_running_and_after(wfr, client):
    def phased(ctx: wf.DaprWorkflowContext, _):
        ctx.set_custom_status("waiting for go")
        yield ctx.wait_for_external_event("go")
        ctx.set_custom_status({"phase": 2, "ok": True})
        return "done"

    wfr.register_workflow(phased)
    iid = client.schedule_new_workflow(phased)
    settle(wfr)
    assert client.get_workflow_state(iid).serialized_custom_status == "waiting for go"
    assert client.get_workflow_state(iid, fetch_payloads=False).serialized_custom_status is None
    client.raise_workflow_event(iid, "go")
    state = complete(client, iid)
    assert state.serialized_custom_status == '{"phase": 2, "ok": true}'


def test_new_guid_is_deterministic_and_distinct(wfr, client):
    def guids(ctx: wf.DaprWorkflowContext, _):
        return [str(ctx.new_guid()) for _ in range(3)]

    wfr.register_workflow(guids)
    first = output(complete(client, client.schedule_new_workflow(guids, instance_id="g")))
    assert len(set(first)) == 3
    assert all(uuid.UUID(g).version == 5 for g in first)
    client.purge_workflow("g")
    again = output(complete(client, client.schedule_new_workflow(guids, instance_id="g")))
    assert again == first  # same instance id and virtual time: same GUIDs
    other = output(complete(client, client.schedule_new_workflow(guids, instance_id="h")))
    assert not set(other) & set(first)


def test_new_guid_is_daprs_deterministic_uuid_v5():
    from dapr.ext.workflow._durabletask.deterministic import deterministic_uuid_v5

    for instance_id in ("g", "order-1", "ünïcode id", "x" * 200):
        ctx = wf.DaprWorkflowContext(instance_id)
        for counter in range(64):
            assert ctx.new_guid() == deterministic_uuid_v5(
                instance_id, ctx.current_utc_datetime, counter
            )


@pytest.mark.parametrize(
    "text", ["1", " 1 ", "-0.5e3", '"a"', "null", "true", '\n{"a": [1, {"b": null}]}\t', "[]"]
)
def test_payload_decoding_reads_json_as_json_loads(text):
    assert _serde.decode(text) == json.loads(text)


@pytest.mark.parametrize("text", ["1 2", "{", '"a', "[1,]", "nan?"])
def test_payload_decoding_rejects_what_json_loads_rejects(text):
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        _serde.decode(text)


# ---------------------------------------------------------------- flaws of Dapr fixed
def test_a_result_that_is_not_json_serializable_fails_the_instance(wfr, client):
    def returns_a_set(ctx: wf.DaprWorkflowContext, _):
        yield ctx.call_activity(echo, input=1)
        return {1, 2, 3}

    iid, state = run(wfr, client, returns_a_set)
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "SerializationError"
    message = state.failure_details.message
    assert "result of workflow 'returns_a_set' is not JSON-serializable" in message
    assert "set" in message
    assert kinds(client, iid)[-1] == "executionCompleted"


def test_yielding_something_that_is_not_a_task_fails_with_type_error(wfr, client):
    def yields_none(ctx: wf.DaprWorkflowContext, _):
        yield ctx.call_activity(echo, input=1)
        yield None
        return "unreachable"

    _, state = run(wfr, client, yields_none)
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "TypeError"
    assert "yielded None, which is not a task" in state.failure_details.message

    def yields_a_generator(ctx: wf.DaprWorkflowContext, _):
        yield (x for x in ())

    _, state = run(wfr, client, yields_a_generator)
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "TypeError"


def test_falsy_event_data_arrives_as_given(wfr, client):
    def three(ctx: wf.DaprWorkflowContext, _):
        values = yield wf.when_all([ctx.wait_for_external_event(n) for n in "abcd"])
        return values

    wfr.register_workflow(three)
    iid = client.schedule_new_workflow(three)
    settle(wfr)
    for name, value in zip("abcd", (0, "", False, []), strict=True):
        client.raise_workflow_event(iid, name, data=value)
    assert output(complete(client, iid)) == [0, "", False, []]


@pytest.mark.parametrize(("value", "text"), [(0, "0"), ("", '""'), (False, "false")])
def test_falsy_terminate_output_arrives_as_given(wfr, client, value, text):
    wfr.register_workflow(waiter)
    iid = client.schedule_new_workflow(waiter)
    settle(wfr)
    client.terminate_workflow(iid, output=value)
    state = client.get_workflow_state(iid)
    assert state.runtime_status is TERMINATED
    assert state.serialized_output == text


def test_deterministic_values_do_not_depend_on_the_time_zone(wfr, client, monkeypatch):
    def draws(ctx: wf.DaprWorkflowContext, _):
        return {
            "guid": str(ctx.new_guid()),
            "int": ctx.random_int(0, 10**9),
            "string": ctx.random_string(12),
        }

    wfr.register_workflow(draws)
    results = {}
    try:
        for tz in ("UTC", "America/New_York", "Asia/Kolkata"):
            monkeypatch.setenv("TZ", tz)
            time.tzset()
            iid = client.schedule_new_workflow(draws, instance_id="tz")
            results[tz] = output(complete(client, iid))
            client.purge_workflow(iid)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert results["America/New_York"] == results["UTC"]
    assert results["Asia/Kolkata"] == results["UTC"]


# ---------------------------------------------------------------- activities and inputs
def test_async_activities_run_and_fail_like_sync_ones(wfr, client):
    async def triple(ctx, n: int) -> int:
        await asyncio.sleep(0)
        return 3 * n

    async def broken(ctx, n: int) -> int:
        await asyncio.sleep(0)
        raise KeyError(n)

    def uses_async(ctx: wf.DaprWorkflowContext, n: int):
        values = yield wf.when_all([ctx.call_activity(triple, input=i) for i in range(n)])
        try:
            yield ctx.call_activity(broken, input=n)
        except wf.TaskFailedError as error:
            return {"values": values, "error": error.details.error_type}
        return {"values": values}

    wfr.register_activity(triple)
    wfr.register_activity(broken)
    _, state = run(wfr, client, uses_async, input=4)
    assert output(state) == {"values": [0, 3, 6, 9], "error": "KeyError"}


class Money:
    """A model class in pydantic's style (model_dump / model_validate), without pydantic."""

    def __init__(self, amount: int, currency: str):
        self.amount = amount
        self.currency = currency

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}

    @classmethod
    def model_validate(cls, data: dict[str, Any]) -> Money:
        return cls(**data)


def add_fee(ctx, money: Money) -> Money:
    assert isinstance(money, Money)
    return Money(money.amount + 1, money.currency)


def test_model_inputs_are_coerced_by_annotation(wfr, client):
    def charge(ctx: wf.DaprWorkflowContext, money: Money):
        assert isinstance(money, Money)
        charged = yield ctx.call_activity(add_fee, input=money)
        # results arrive as plain JSON (there is no annotation to coerce them by)
        return {"in": type(money).__name__, "charged": charged}

    wfr.register_activity(add_fee)
    _, state = run(wfr, client, charge, input=Money(10, "EUR"))
    assert state.runtime_status is COMPLETED, state.failure_details
    assert state.serialized_input == '{"amount": 10, "currency": "EUR"}'
    assert output(state) == {"in": "Money", "charged": {"amount": 11, "currency": "EUR"}}


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_dataclass_inputs_arrive_as_simple_namespaces_as_on_dapr(wfr, client):
    # Dapr's SDK decodes a marked object as a SimpleNamespace whatever the parameter's
    # annotation says; only model classes (model_validate) are rebuilt.
    def describe(ctx, p: Point) -> dict[str, Any]:
        return {"type": type(p).__name__, "x": p.x, "y": p.y}

    def typed(ctx: wf.DaprWorkflowContext, p: Point):
        untyped = yield ctx.call_activity(describe, input=p)
        p.x += 1  # attributes can be set, as the monitor example relies on
        return {"type": type(p).__name__, "x": p.x, "repr": repr(p), "activity": untyped}

    wfr.register_activity(describe)
    _, state = run(wfr, client, typed, input=Point(3, -4))
    assert output(state) == {
        "type": "SimpleNamespace",
        "x": 4,
        "repr": "namespace(x=4, y=-4)",
        "activity": {"type": "SimpleNamespace", "x": 3, "y": -4},
    }


def test_new_instance_ids_are_uuid4_hex_as_on_dapr(wfr, client):
    def noop(ctx: wf.DaprWorkflowContext, _: Any) -> None:
        return None

    wfr.register_workflow(noop)
    first = client.schedule_new_workflow(noop)
    second = client.schedule_new_workflow(noop)
    for iid in (first, second):
        assert len(iid) == 32 and "-" not in iid
        assert uuid.UUID(hex=iid).version == 4
    assert first != second
