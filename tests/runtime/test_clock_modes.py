"""The clock's modes: virtual time that flows with wall time and jumps only when asked,
reads that never move it, waits that may be kept from jumping, and a frozen mode.

Tests of flowing time sleep for real, briefly, and assert order and counts with wide
margins (a lower bound on elapsed time, a generous upper bound), never tight timings."""

from __future__ import annotations

import itertools
import threading
import time
import warnings
from datetime import datetime, timedelta

import pytest
from support import WAIT, complete, output, until

import wfkit as wf

START = datetime(2025, 1, 1)
COMPLETED = wf.WorkflowStatus.COMPLETED


def escalation(wfr: wf.WorkflowRuntime) -> None:
    @wfr.workflow(name="approval")
    def approval(ctx: wf.DaprWorkflowContext, _):
        event = ctx.wait_for_external_event("approval")
        timeout = ctx.create_timer(timedelta(hours=24))
        winner = yield wf.when_any([event, timeout])
        return "timed out" if winner == timeout else winner.get_result()


def raise_soon(client: wf.DaprWorkflowClient, iid: str, delay: float = 0.2) -> threading.Thread:
    """Another thread approves after ``delay`` wall seconds, as a human would."""

    def approve() -> None:
        time.sleep(delay)
        client.raise_workflow_event(iid, "approval", data="approved")

    thread = threading.Thread(target=approve)
    thread.start()
    return thread


# ---------------------------------------------------------------- flowing time
def test_the_default_clock_flows_and_timers_fire_in_real_time_without_a_wait():
    wfr = wf.WorkflowRuntime(store=":memory:")
    assert wfr.clock.flow and wfr.clock.auto_skip

    @wfr.workflow
    def nap(ctx: wf.DaprWorkflowContext, _):
        yield ctx.create_timer(timedelta(seconds=0.3))
        return ctx.current_utc_datetime.isoformat()

    with wfr:
        client = wf.DaprWorkflowClient(wfr)
        t0 = wfr.clock.now()
        wall = time.monotonic()
        iid = client.schedule_new_workflow(nap)
        # only reads, as a program that sleeps in real time does: no jump
        until(lambda: client.get_workflow_state(iid).runtime_status is COMPLETED)
        elapsed = time.monotonic() - wall
        assert elapsed >= 0.3
        assert elapsed < WAIT
        # virtual time went on with wall time: the timer fired at its time, not before
        fired_at = datetime.fromisoformat(output(client.get_workflow_state(iid)))
        assert fired_at >= t0 + timedelta(seconds=0.3)
        assert wfr.clock.now() - t0 >= timedelta(seconds=0.3)


def test_a_retry_interval_passes_in_real_time_as_on_dapr():
    wfr = wf.WorkflowRuntime(store=":memory:")
    attempts: list[float] = []

    @wfr.activity
    def flaky(ctx, _):
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise ConnectionError("busy")
        return len(attempts)

    policy = wf.RetryPolicy(first_retry_interval=timedelta(seconds=0.25), max_number_of_attempts=3)

    @wfr.workflow
    def retried(ctx: wf.DaprWorkflowContext, _):
        return (yield ctx.call_activity(flaky, retry_policy=policy))

    with wfr:
        client = wf.DaprWorkflowClient(wfr)
        iid = client.schedule_new_workflow(retried)
        # only reads: the retries come as the intervals pass in real time
        until(lambda: client.get_workflow_state(iid).runtime_status is COMPLETED)
    assert len(attempts) == 3
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert all(gap >= 0.25 for gap in gaps), gaps  # never sooner than the interval


def test_a_wait_still_jumps_a_flowing_clock_to_the_next_timer():
    wfr = wf.WorkflowRuntime(store=":memory:")

    @wfr.workflow
    def week(ctx: wf.DaprWorkflowContext, _):
        yield ctx.create_timer(timedelta(days=7))
        return "done"

    with wfr:
        client = wf.DaprWorkflowClient(wfr)
        t0 = wfr.clock.now()
        iid = client.schedule_new_workflow(week)
        assert output(complete(client, iid)) == "done"
        assert wfr.clock.now() - t0 >= timedelta(days=7)


def test_flow_can_be_turned_off_and_on():
    clock = wf.VirtualClock(START)
    time.sleep(0.02)
    assert clock.now() > START
    clock.flow = False
    stopped = clock.now()
    time.sleep(0.02)
    assert clock.now() == stopped
    clock.flow = True
    time.sleep(0.02)
    assert clock.now() > stopped


# ---------------------------------------------------------------- reads never move time
def test_reading_state_history_and_lists_never_moves_time(wfr, client):
    escalation(wfr)
    iid = client.schedule_new_workflow("approval")
    until(lambda: wfr.clock.pending_timers())
    for _ in range(3):
        assert client.get_workflow_state(iid).runtime_status is wf.WorkflowStatus.RUNNING
        client.get_workflow_history(iid)
        client.list_workflow_instance_ids()
        wfr.instances()
        wfr.history(iid)
    assert wfr.clock.now() == START


# ---------------------------------------------------------------- waits that must not jump
def test_a_wait_inside_no_auto_skip_lets_another_thread_raise_the_event(wfr, client):
    escalation(wfr)
    iid = client.schedule_new_workflow("approval")
    approver = raise_soon(client, iid)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with wfr.clock.no_auto_skip():
            state = client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
    approver.join()
    assert output(state) == "approved"
    assert wfr.clock.now() == START  # nothing jumped
    assert not [w for w in caught if issubclass(w.category, wf.WfkitWarning)]
    # the block only held this thread's waits, and only while it ran
    assert wfr.clock.skips_here()


def test_auto_skip_off_for_the_runtime_keeps_every_wait_from_jumping(wfr, client):
    escalation(wfr)
    wfr.clock.auto_skip = False
    iid = client.schedule_new_workflow("approval")
    approver = raise_soon(client, iid)
    assert output(complete(client, iid)) == "approved"
    approver.join()
    assert wfr.clock.now() == START


def test_a_jump_that_fires_a_timeout_raced_by_an_event_wait_warns(wfr, client):
    escalation(wfr)
    iid = client.schedule_new_workflow("approval", instance_id="order-7")
    with pytest.warns(wf.WfkitWarning) as record:
        state = complete(client, iid)
    assert output(state) == "timed out"
    # (pytest.warns also records unrelated warnings, e.g. a ResourceWarning from a GC)
    message = next(str(w.message) for w in record if issubclass(w.category, wf.WfkitWarning))
    assert "'order-7'" in message
    assert "'approval'" in message
    assert "wfr.clock.no_auto_skip()" in message
    assert "wfr.clock.auto_skip = False" in message


def test_a_jump_over_a_plain_timer_does_not_warn(wfr, client):
    @wfr.workflow
    def sleeper(ctx: wf.DaprWorkflowContext, _):
        yield ctx.create_timer(timedelta(days=1))

    iid = client.schedule_new_workflow(sleeper)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        complete(client, iid)
    assert not [w for w in caught if issubclass(w.category, wf.WfkitWarning)]


def test_wait_for_workflow_start_jumps_to_a_scheduled_start(wfr, client):
    @wfr.workflow
    def later(ctx: wf.DaprWorkflowContext, _):
        return ctx.current_utc_datetime.isoformat()

    iid = client.schedule_new_workflow(later, start_at=START + timedelta(hours=5))
    state = client.wait_for_workflow_start(iid, timeout_in_seconds=WAIT)
    assert state.runtime_status is not wf.WorkflowStatus.PENDING
    assert wfr.clock.now() == START + timedelta(hours=5)


# ---------------------------------------------------------------- frozen mode
def test_the_frozen_clock_moves_only_by_hand():
    wfr = wf.WorkflowRuntime(clock="frozen", store=":memory:")
    assert not wfr.clock.flow and not wfr.clock.auto_skip
    escalation(wfr)
    with wfr:
        client = wf.DaprWorkflowClient(wfr)
        t0 = wfr.clock.now()
        iid = client.schedule_new_workflow("approval")
        with pytest.raises(TimeoutError):
            client.wait_for_workflow_completion(iid, timeout_in_seconds=0.3)
        assert wfr.clock.now() == t0
        wfr.clock.advance(timedelta(hours=24))
        assert output(complete(client, iid)) == "timed out"
        assert wfr.clock.now() == t0 + timedelta(hours=24)


def test_an_unknown_clock_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="'frozen'"):
        wf.WorkflowRuntime(clock="paused", store=":memory:")
