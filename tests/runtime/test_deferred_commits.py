"""On a store that keeps nothing durable (in memory), a turn's commit may wait while the
instance runs on: reads through the runtime and the client still see every turn, the
engine thread commits what waits in time, and a status change or a history that
starts over commits at once. A file store commits every turn."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import wfkit as wf
from wfkit.runtime import _recording
from wfkit.store import Batch

WAIT = 20


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def kinds(events: list[Any]) -> list[str]:
    return [type(getattr(e, "event", e)).__name__ for e in events]


def stepping_runtime(store: Any, gate: threading.Event) -> tuple[wf.WorkflowRuntime, list[Batch]]:
    """A runtime whose ``two_steps`` workflow calls a quick activity, then one that holds
    until ``gate``; with the batches its engine committed."""
    wfr = wf.WorkflowRuntime(store=store)

    @wfr.activity
    def quick(ctx: Any, x: int) -> int:
        return x + 1

    @wfr.activity
    def held(ctx: Any, x: int) -> int:
        gate.wait(WAIT)
        return x * 10

    @wfr.workflow
    def two_steps(ctx: Any, x: int) -> Any:
        y = yield ctx.call_activity(quick, input=x)
        return (yield ctx.call_activity(held, input=y))

    committed: list[Batch] = []
    wfr._engine.subscribe(committed.append)
    return wfr, committed


def held_scheduled(events: list[Any]) -> bool:
    """Whether ``events`` (or stored events) hold the call of the ``held`` activity."""
    return any(getattr(getattr(e, "event", e), "activity_name", None) == "held" for e in events)


def test_reads_through_the_runtime_see_a_turn_whose_commit_waits(monkeypatch) -> None:
    monkeypatch.setattr(_recording, "DEFER_SECONDS", 3600.0)  # only a read commits it
    gate = threading.Event()
    wfr, committed = stepping_runtime(":memory:", gate)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        iid = client.schedule_new_workflow("two_steps", input=1)
        engine = wfr._engine
        wait_until(lambda: held_scheduled(engine._batch.events))
        # the turn that called ``held`` changed no status: its commit waits
        assert not held_scheduled(engine.store.history(iid))
        assert not any(held_scheduled(b.events) for b in committed)
        # a read through the client commits it first
        history = client.get_workflow_history(iid)
        assert [e.name for e in history if e.event_type.name == "TASK_SCHEDULED"][-1] == "held"
        assert held_scheduled(engine.store.history(iid))
        assert held_scheduled([e for b in committed for e in b.events if e.instance_id == iid])
        assert "held" in set(wfr.sql("SELECT name FROM history WHERE kind = 'TaskScheduled'").name)
        gate.set()
        state = client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
        assert state.serialized_output == "20"
        # the status change committed at once: the store has the whole history
        assert kinds(engine.store.history(iid))[-1] == "ExecutionCompleted"
        assert engine._deferred_since is None
    finally:
        gate.set()
        wfr.shutdown()


@pytest.mark.parametrize(
    ("kind", "defer_seconds"),
    [("memory", 0.05), ("file", 3600.0)],  # a file commits every turn, whatever the delay
)
def test_a_waiting_turn_is_committed_in_time_without_a_read(
    kind: str, defer_seconds: float, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(_recording, "DEFER_SECONDS", defer_seconds)
    gate = threading.Event()
    wfr, committed = stepping_runtime(kind if kind == "memory" else tmp_path / "wf.duckdb", gate)
    wfr.start()
    try:
        iid = wf.DaprWorkflowClient(wfr).schedule_new_workflow("two_steps", input=1)
        engine = wfr._engine
        # no read and no other turn: the engine thread commits it once it is due
        wait_until(lambda: held_scheduled(engine.store.history(iid)))
        assert engine._deferred_since is None
        assert held_scheduled([e for b in committed for e in b.events if e.instance_id == iid])
    finally:
        gate.set()
        wfr.shutdown()


@pytest.mark.parametrize("store", [":memory:", "memory"])
def test_every_generation_of_continue_as_new_reaches_the_subscribers(store, monkeypatch) -> None:
    monkeypatch.setattr(_recording, "DEFER_SECONDS", 3600.0)
    wfr = wf.WorkflowRuntime(store=store)

    @wfr.activity
    def echo(ctx: Any, x: int) -> int:
        return x

    @wfr.workflow
    def counter(ctx: Any, n: int) -> Any:
        yield ctx.call_activity(echo, input=n)
        yield ctx.call_activity(echo, input=n)
        if n < 3:
            ctx.continue_as_new(n + 1)
            return None
        return n

    committed: list[Batch] = []
    wfr._engine.subscribe(committed.append)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        iid = client.schedule_new_workflow(counter, input=0)
        state = client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
        assert state.serialized_output == "3"
        calls = [
            s.event.input
            for b in committed
            for s in b.events
            if type(s.event).__name__ == "TaskScheduled"
        ]
        assert calls == ["0", "0", "1", "1", "2", "2", "3", "3"]
        assert kinds(wfr._engine.store.history(iid)).count("TaskScheduled") == 2
    finally:
        wfr.shutdown()


def test_rows_held_back_are_written_once_the_engine_is_quiet(monkeypatch) -> None:
    """Between two notebook cells the engine writes the rows an in-memory store holds
    back, so the next run (or read) does not pay for them; while anything runs, it
    does not."""
    monkeypatch.setattr(_recording, "QUIET_SECONDS", 0.05)
    gate = threading.Event()
    wfr, _ = stepping_runtime(":memory:", gate)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        iid = client.schedule_new_workflow("two_steps", input=1)
        engine = wfr._engine
        store = engine.store
        wait_until(lambda: engine._executing)  # ``held`` runs
        time.sleep(0.3)  # six quiet periods: not quiet, an activity runs
        assert store.held_back > 0
        gate.set()
        assert (
            client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT).serialized_output
            == "20"
        )
        wait_until(lambda: store.held_back == 0)
        written = store._con.execute(
            "SELECT count(*) FROM history WHERE instance_id = ?", [iid]
        ).fetchone()[0]
        assert written == len(client.get_workflow_history(iid)) > 0
    finally:
        gate.set()
        wfr.shutdown()
