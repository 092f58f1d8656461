"""Commands sent to an instance that does not run now are held, as Dapr queues an
instance's new events: one whose code is stuck in a turn takes events, pauses and
resumes when its code yields again; one due later (``start_at``) takes them at its
start. Held commands are in the store (its inbox), so a restart keeps them."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import wfkit as wf

WAIT = 20


def held(wfr: wf.WorkflowRuntime, instance_id: str) -> list[str]:
    """The kinds of the events the store holds for ``instance_id``, in order."""
    return [type(e).__name__ for e in wfr._engine.store.inboxes().get(instance_id, [])]


def until(predicate: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_commands_to_a_stuck_instance_are_held_and_applied_when_it_yields() -> None:
    wfr = wf.WorkflowRuntime(stuck_turn_seconds=0.2)
    release = threading.Event()

    @wfr.activity
    def step(ctx: Any, _: Any) -> int:
        return 1

    @wfr.workflow
    def blocked(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity(step)
        release.wait(WAIT)  # blocks its turn without yielding until released
        value = yield ctx.wait_for_external_event("go")
        return value

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        with pytest.warns(wf.WfkitWarning, match="'s'.*without yielding"):
            client.schedule_new_workflow(blocked, instance_id="s")
            until(lambda: any("'s'" in p for p in wfr.problems))
        client.raise_workflow_event("s", "go", data=7)
        client.pause_workflow("s")
        client.resume_workflow("s")
        assert held(wfr, "s") == ["EventRaised", "ExecutionSuspended", "ExecutionResumed"]
        assert client.get_workflow_state("s").runtime_status is wf.WorkflowStatus.RUNNING
        release.set()  # its code yields: the held commands are applied, in order
        state = client.wait_for_workflow_completion("s", timeout_in_seconds=WAIT)
        assert state is not None and state.serialized_output == "7"
        kinds = [e.event_type.name for e in client.get_workflow_history("s")]
        assert kinds.index("EVENT_RAISED") < kinds.index("EXECUTION_SUSPENDED")
        assert kinds.index("EXECUTION_SUSPENDED") < kinds.index("EXECUTION_RESUMED")
        assert held(wfr, "s") == []
    finally:
        release.set()
        wfr.shutdown()


def test_an_event_held_for_a_stuck_instance_survives_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "stuck.duckdb"
    release = threading.Event()

    def runtime(stuck: bool) -> wf.WorkflowRuntime:
        wfr = wf.WorkflowRuntime(store=store, stuck_turn_seconds=0.2, shutdown_seconds=0.5)

        @wfr.workflow
        def blocked(ctx: Any, _: Any) -> Any:
            if stuck:
                release.wait(WAIT)  # stuck in the first process
            return (yield ctx.wait_for_external_event("go"))

        return wfr

    wfr = runtime(stuck=True)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    with pytest.warns(wf.WfkitWarning, match="'s'.*without yielding"):
        client.schedule_new_workflow("blocked", instance_id="s")
        until(lambda: any("'s'" in p for p in wfr.problems))
    client.raise_workflow_event("s", "go", data="kept")
    wfr.shutdown()  # its code is still stuck: abandoned, as in a crash
    again = runtime(stuck=False)
    again.start()
    try:
        state = wf.DaprWorkflowClient(again).wait_for_workflow_completion(
            "s", timeout_in_seconds=WAIT
        )
        assert state is not None and state.serialized_output == '"kept"'
        assert held(again, "s") == []
    finally:
        release.set()
        again.shutdown()


def test_commands_to_an_instance_due_later_survive_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "later.duckdb"
    start = datetime(2025, 1, 1)

    def runtime() -> wf.WorkflowRuntime:
        wfr = wf.WorkflowRuntime(store=store, clock=wf.VirtualClock(start))

        @wfr.workflow
        def later(ctx: Any, _: Any) -> Any:
            value = yield ctx.wait_for_external_event("go")
            return [value, ctx.current_utc_datetime.isoformat()]

        return wfr

    wfr = runtime()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    due = wfr.clock.now() + timedelta(days=3)
    client.schedule_new_workflow("later", instance_id="l", start_at=due)
    client.raise_workflow_event("l", "go", data=1)
    client.pause_workflow("l")
    assert held(wfr, "l") == ["EventRaised"]  # the pause is the record's status
    assert len(client.get_workflow_history("l")) == 0
    wfr.shutdown()

    again = runtime()
    again.start()
    try:
        client = wf.DaprWorkflowClient(again)
        assert client.get_workflow_state("l").runtime_status is wf.WorkflowStatus.SUSPENDED
        again.clock.advance(timedelta(days=4))  # due while paused: it does not start
        assert len(client.get_workflow_history("l")) == 0
        client.resume_workflow("l")
        state = client.wait_for_workflow_completion("l", timeout_in_seconds=WAIT)
        assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED
        value, when = json.loads(state.serialized_output or "null")
        assert value == 1 and when >= due.isoformat()
        assert held(again, "l") == []
    finally:
        again.shutdown()


def test_terminating_a_stuck_instance_records_the_commands_it_held() -> None:
    wfr = wf.WorkflowRuntime(stuck_turn_seconds=0.2)
    release = threading.Event()

    @wfr.workflow
    def blocked(ctx: Any, _: Any) -> Any:
        release.wait(WAIT)
        yield ctx.wait_for_external_event("go")

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        with pytest.warns(wf.WfkitWarning, match="without yielding"):
            client.schedule_new_workflow(blocked, instance_id="t")
            until(lambda: any("'t'" in p for p in wfr.problems))
        client.raise_workflow_event("t", "go", data=1)
        client.terminate_workflow("t", output="stop")
        kinds = [e.event_type.name for e in client.get_workflow_history("t")]
        assert kinds[-3:] == ["EVENT_RAISED", "EXECUTION_TERMINATED", "EXECUTION_COMPLETED"]
        assert held(wfr, "t") == []
    finally:
        release.set()
        wfr.shutdown()


@pytest.mark.parametrize("kind", ["memory", "duckdb", "file"])
def test_a_store_keeps_held_commands_until_they_are_replaced(kind: str, tmp_path: Path) -> None:
    from wfkit.core._history import EventRaised, ExecutionSuspended
    from wfkit.store import Batch, DuckDBStore, InboxStore, MemoryStore

    def open_store() -> Any:
        if kind == "memory":
            return MemoryStore()
        return DuckDBStore(tmp_path / "s.duckdb" if kind == "file" else ":memory:")

    store = open_store()
    assert isinstance(store, InboxStore)
    raised = EventRaised(timestamp=datetime(2025, 1, 1), event_name="go", input="1")
    paused = ExecutionSuspended(timestamp=datetime(2025, 1, 2), reason="why")
    store.commit(Batch(inbox={"a": [raised, paused], "b": [raised]}))
    store.commit(Batch(inbox={"b": []}))  # b's were recorded in its history
    assert store.inboxes() == {"a": [raised, paused]}
    if kind == "file":
        store.close()
        store = open_store()
        assert store.inboxes() == {"a": [raised, paused]}
    store.commit(Batch(purges={"a"}))
    assert store.inboxes() == {}
