"""Helpers shared by the unit tests: reading histories in a compact, assertable form."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

import wfkit as wf
from wfkit.core._history import HistoryEvent

#: Every wait in the tests is bounded, so a bug cannot hang the suite.
WAIT = 10


def raw_history(wfr: wf.WorkflowRuntime, instance_id: str) -> list[HistoryEvent]:
    """The instance's stored history events (wfkit's own event objects)."""
    return [s.event for s in wfr._engine.store.history(instance_id)]


def kinds(client: wf.DaprWorkflowClient, instance_id: str) -> list[str]:
    """The history's event types, as the client reports them, e.g. ``taskScheduled``."""
    return [e.event_type.value for e in client.get_workflow_history(instance_id)]


def scheduled(client: wf.DaprWorkflowClient, instance_id: str) -> list[tuple[str, int, Any]]:
    """(event type, task id, name) of every scheduling event, in history order."""
    return [
        (e.event_type.value, e.event_id, e.name)
        for e in client.get_workflow_history(instance_id)
        if e.event_id >= 0
    ]


def complete(client: wf.DaprWorkflowClient, instance_id: str) -> wf.WorkflowState:
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=WAIT)
    assert state is not None
    return state


def output(state: wf.WorkflowState) -> Any:
    text = state.serialized_output
    return None if text is None else json.loads(text)


def complete_by_timeout(client: wf.DaprWorkflowClient, instance_id: str) -> wf.WorkflowState:
    """Wait for an instance whose event wait loses to a timer that auto-skip fires, which
    wfkit reports with a warning naming the instance."""
    with pytest.warns(wf.WfkitWarning, match=f"instance '{instance_id}'.*won the race"):
        return complete(client, instance_id)


def snapshot(wfr: wf.WorkflowRuntime) -> dict[str, Any]:
    """Everything the store holds: each instance's record and full history."""
    store = wfr._engine.store
    return {r.instance_id: (r, list(store.history(r.instance_id))) for r in store.records()}


def until(predicate: Any, timeout: float = WAIT) -> None:
    """Poll ``predicate`` until it is true (for states reached while an activity blocks)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.001)


def settle(wfr: wf.WorkflowRuntime) -> None:
    """Let every instance run until it waits for time or an event (the clock stays put)."""
    wfr.clock.advance(timedelta(0))
