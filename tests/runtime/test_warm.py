"""Instances beyond the warm limit replay from the store when their next event arrives."""

from __future__ import annotations

import gc
import inspect
import json
from datetime import datetime, timedelta

import pytest

import wfkit as wf
from wfkit.core._gc import gc_paused
from wfkit.core._run_state import RunState


def collect(ctx, n):
    seen = []
    for _ in range(n):
        value = yield ctx.wait_for_external_event("item")
        seen.append(value)
        yield ctx.create_timer(timedelta(hours=1))
    return seen


@pytest.mark.parametrize("store", [":memory:", "memory"])
def test_evicted_instances_take_their_events_as_warm_ones(store):
    wfr = wf.WorkflowRuntime(
        clock=wf.VirtualClock(datetime(2025, 1, 1)), store=store, history_cache_max_instances=3
    )
    wfr.register_workflow(collect)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    ids = [client.schedule_new_workflow(collect, input=2) for _ in range(12)]
    wfr.clock.advance(timedelta(0))
    for round_ in range(2):
        for i, iid in enumerate(ids):
            client.raise_workflow_event(iid, "item", data=[i, round_])
        wfr.clock.advance(timedelta(hours=1))
    for i, iid in enumerate(ids):
        state = client.wait_for_workflow_completion(iid, timeout_in_seconds=10)
        assert state.serialized_output == f"[[{i}, 0], [{i}, 1]]"
    assert wfr._engine._warm.evictions >= 9  # most instances replayed at least once
    assert len(wfr._engine._warm) <= 3
    wfr.shutdown()


def started(workflow, **options) -> tuple[wf.WorkflowRuntime, wf.DaprWorkflowClient]:
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(datetime(2025, 1, 1)), **options)
    wfr.register_workflow(workflow)
    wfr.start()
    return wfr, wf.DaprWorkflowClient(wfr)


def test_an_evicted_executor_is_freed_at_once_without_the_cyclic_collector():
    """A million idle instances are evicted in a bulk run: each dropped executor must go
    by reference counting, not wait (generator, context and all) for a collector pass."""
    wfr, client = started(collect, history_cache_max_instances=1)
    gc.collect()
    with gc_paused():
        ids = [client.schedule_new_workflow(collect, input=1) for _ in range(20)]
        wfr.clock.advance(timedelta(0))
        alive = [
            o
            for o in gc.get_objects()
            if (inspect.isgenerator(o) and o.__name__ == "collect")
            or (isinstance(o, RunState) and o.instance_id in ids)
        ]
    assert len(alive) == 2  # the one warm instance's generator and run state
    # evicted and freed, the instances still take their events (replayed), and the
    # decisions record the line that made them
    client.raise_workflow_event(ids[0], "item", data="x")
    wfr.clock.advance(timedelta(hours=1))
    assert client.wait_for_workflow_completion(ids[0]).serialized_output == '["x"]'
    history = wfr.history(ids[0])
    lines = {
        fields["origin"]: fields["line"]
        for fields in map(json.loads, history[history.kind == "TimerCreated"].fields)
    }
    first = collect.__code__.co_firstlineno
    assert lines == {"external_event": first + 3, "create_timer": first + 5}
    wfr.shutdown()


def approve_or_time_out(ctx, _):
    approval = ctx.wait_for_external_event("approval")
    winner = yield wf.when_any([approval, ctx.create_timer(timedelta(days=7))])
    return "approved" if winner is approval else "timed out"


def test_a_finished_instance_leaves_no_cycle_for_the_collector():
    """The seed's escalation times out with its event wait still pending: the ended
    executor's tasks (a group and its children, the wait's timeout) are unlinked as it
    is dropped."""
    wfr, client = started(approve_or_time_out)
    gc.collect()
    with gc_paused():
        ids = [client.schedule_new_workflow(approve_or_time_out) for _ in range(5)]
        for iid in ids:
            state = client.wait_for_workflow_completion(iid, timeout_in_seconds=10)
            assert state.serialized_output == '"timed out"'
        alive = [o for o in gc.get_objects() if isinstance(o, RunState) and o.instance_id in ids]
    assert alive == []
    wfr.shutdown()
