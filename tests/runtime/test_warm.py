"""Instances beyond the warm limit replay from the store when their next event arrives."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import wfkit as wf


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
