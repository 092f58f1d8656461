"""The engine's queue of pending timers: first due first, in the order set among those due
at the same time, and a batch of fired timers never splits an instance's due timers."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

import wfkit as wf
from wfkit.runtime import _timers
from wfkit.runtime._timers import TimerQueue

T0 = datetime(2025, 1, 1)


def test_timers_come_out_by_time_then_in_the_order_set() -> None:
    rng = random.Random(7)
    pushed = [(T0 + timedelta(minutes=rng.randrange(5)), (f"i{n}", 0, n)) for n in range(200)]
    queue = TimerQueue()
    for fire_at, timer in pushed:
        queue.push(fire_at, timer)
    popped = []
    while queue:
        fire_at, first = queue.first_time(), queue.first()
        timer = queue.pop()
        assert timer == first
        popped.append((fire_at, timer))
    # sorted() is stable: ties keep the order they were pushed in
    assert popped == sorted(pushed, key=lambda p: p[0])
    assert queue.first_time() is None and not queue.any_due(T0 + timedelta(days=1))


def test_due_means_at_or_before_now() -> None:
    queue = TimerQueue()
    queue.push(T0 + timedelta(seconds=1), ("a", 0, 1))
    assert not queue.any_due(T0)
    assert queue.any_due(T0 + timedelta(seconds=1))
    queue.pop()
    queue.push(T0, ("b", 0, 1))  # a time that was used up comes back
    assert queue.first() == ("b", 0, 1) and queue.any_due(T0)


def test_a_batch_of_fired_timers_gives_each_instance_all_of_its_due_ones(
    wfr: wf.WorkflowRuntime, client: wf.DaprWorkflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_timers, "FIRE_BATCH", 2)  # batches far smaller than the instances
    wfr.clock.auto_skip = False

    @wfr.workflow
    def two_timers(ctx, _):
        yield wf.when_all(
            [ctx.create_timer(timedelta(days=1)), ctx.create_timer(timedelta(days=1))]
        )
        return ctx.current_utc_datetime.isoformat()

    ids = [client.schedule_new_workflow(two_timers, input=n) for n in range(7)]
    for iid in ids:
        client.wait_for_workflow_start(iid, timeout_in_seconds=10)
    wfr.clock.advance(timedelta(days=1))
    for iid in ids:
        state = client.wait_for_workflow_completion(iid, timeout_in_seconds=10)
        assert state.runtime_status is wf.WorkflowStatus.COMPLETED
        kinds = [e.event_type.name for e in client.get_workflow_history(iid)]
        assert kinds.count("TIMER_FIRED") == 2
        # both timers fired in one episode: no episode began between them
        first = kinds.index("TIMER_FIRED")
        assert kinds[first + 1] == "TIMER_FIRED", kinds
