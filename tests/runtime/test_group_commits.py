"""On a file store, new instances scheduled while a turn runs share that turn's durable
write: every call returns once its instance is durable, and a write the store refuses
fails every call it carried, leaving nothing of their instances behind."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import wfkit as wf
from wfkit.store import Batch, DuckDBStore

WAIT = 20


class FailingFileStore(DuckDBStore):
    """A file store that refuses batches while ``failing`` is set, keeping the instances
    each refused batch held."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.failing = False
        self.refused: list[set[str]] = []

    def commit(self, batch: Batch) -> None:
        if self.failing:
            self.refused.append(set(batch.records))
            raise OSError(28, "No space left on device")
        super().commit(batch)


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def gated_runtime(store: DuckDBStore, gate: threading.Event) -> wf.WorkflowRuntime:
    """A runtime whose ``held`` workflow keeps its first turn running until ``gate``."""
    wfr = wf.WorkflowRuntime(store=store)

    @wfr.activity
    def double(ctx: Any, x: int) -> int:
        return 2 * x

    @wfr.workflow
    def held(ctx: Any, x: int) -> Any:
        if not ctx.is_replaying:
            gate.wait(WAIT)
        return (yield ctx.call_activity(double, input=x))

    @wfr.workflow
    def quick(ctx: Any, x: int) -> Any:
        return (yield ctx.call_activity(double, input=x))

    return wfr


def new_instances_behind_a_turn(
    wfr: wf.WorkflowRuntime, client: wf.DaprWorkflowClient
) -> tuple[list[str], dict[str, object], list[threading.Thread]]:
    """Start ``held`` (its turn runs until the gate opens), then schedule three ``quick``
    instances from a thread each, which wait for a commit: their ids, what each call
    returned or raised (once the threads are joined), and the threads."""
    client.schedule_new_workflow("held", input=1, instance_id="held")
    wait_until(lambda: wfr._engine._active_turn is not None)  # its code runs
    ids = [f"q{i}" for i in range(3)]
    outcomes: dict[str, object] = {}

    def call(instance_id: str) -> None:
        try:
            outcomes[instance_id] = client.schedule_new_workflow(
                "quick", input=3, instance_id=instance_id
            )
        except Exception as exc:
            outcomes[instance_id] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(wfr._engine._creations) == 3)
    return ids, outcomes, threads


def test_new_instances_ride_with_the_commit_of_the_turn_under_way(tmp_path: Path) -> None:
    gate = threading.Event()
    store = FailingFileStore(tmp_path / "wf.duckdb")
    wfr = gated_runtime(store, gate)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        ids, outcomes, threads = new_instances_behind_a_turn(wfr, client)
        assert all(store.record(i) is None for i in ids)  # not written before the turn's
        commits: list[Batch] = []
        store.commit = lambda batch: (commits.append(batch), DuckDBStore.commit(store, batch))
        gate.set()
        for thread in threads:
            thread.join(WAIT)
        assert outcomes == {i: i for i in ids}
        # one write: the held instance's episode and the three new instances
        assert set(commits[0].records) == {"held", *ids}
        for instance_id in ["held", *ids]:
            state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=WAIT)
            assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED
    finally:
        gate.set()
        wfr.shutdown()
    reopened = DuckDBStore(tmp_path / "wf.duckdb")
    assert sorted(r.instance_id for r in reopened.records()) == ["held", "q0", "q1", "q2"]
    reopened.close()


def test_a_refused_shared_write_fails_every_call_it_carried(tmp_path: Path) -> None:
    gate = threading.Event()
    store = FailingFileStore(tmp_path / "wf.duckdb")
    wfr = gated_runtime(store, gate)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        ids, outcomes, threads = new_instances_behind_a_turn(wfr, client)
        store.failing = True
        gate.set()
        for thread in threads:
            thread.join(WAIT)
        assert store.refused[0] == {"held", *ids}  # one write carried them all
        for instance_id in ids:
            assert isinstance(outcomes[instance_id], wf.StoreWriteError)
            assert "No space left" in str(outcomes[instance_id])
            assert client.get_workflow_state(instance_id) is None  # nothing left of it
            assert store.record(instance_id) is None
        # with nothing to share, a call writes its instance itself, and fails alike
        wait_until(lambda: wfr._engine._active_turn is None)
        with pytest.raises(wf.StoreWriteError):
            client.schedule_new_workflow("quick", input=3, instance_id="alone")
        assert client.get_workflow_state("alone") is None
        store.failing = False  # the held instance's episode is retried; new calls work
        state = client.wait_for_workflow_completion("held", timeout_in_seconds=WAIT)
        assert state is not None and state.serialized_output == "2"
        client.schedule_new_workflow("quick", input=3, instance_id="q0")
        state = client.wait_for_workflow_completion("q0", timeout_in_seconds=WAIT)
        assert state is not None and state.serialized_output == "6"
    finally:
        gate.set()
        store.failing = False
        wfr.shutdown()
    reopened = DuckDBStore(tmp_path / "wf.duckdb")
    assert sorted(r.instance_id for r in reopened.records()) == ["held", "q0"]
    reopened.close()


def test_many_threads_scheduling_on_a_file_store_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "wf.duckdb"
    wfr = wf.WorkflowRuntime(store=path)

    @wfr.activity
    def inc(ctx: Any, x: int) -> int:
        return x + 1

    @wfr.workflow
    def chain(ctx: Any, n: int) -> Any:
        x = 0
        for _ in range(n):
            x = yield ctx.call_activity(inc, input=x)
        return x

    wfr.start()
    ids: list[str] = []
    lock = threading.Lock()
    try:
        client = wf.DaprWorkflowClient(wfr)

        def schedule(count: int) -> None:
            for _ in range(count):
                instance_id = client.schedule_new_workflow(chain, input=3)
                with lock:
                    ids.append(instance_id)

        threads = [threading.Thread(target=schedule, args=(25,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT * 3)
        assert len(set(ids)) == 100
        for instance_id in ids:
            state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=WAIT)
            assert state is not None and state.serialized_output == "3"
    finally:
        wfr.shutdown()
    reopened = DuckDBStore(path)
    assert {r.instance_id for r in reopened.records()} == set(ids)
    assert all(r.status is wf.WorkflowStatus.COMPLETED for r in reopened.records())
    reopened.close()
