"""The engine seam: what the layers above reach an engine through."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import wfkit as wf
from wfkit.core._errors import EngineError, InstanceNotFoundError
from wfkit.core._registry import Registry
from wfkit.runtime._seam import (
    EngineView,
    LocalEngine,
    attach_view,
    engine_of,
    local_engine_of,
)
from wfkit.store import Batch, MemoryStore


class CopiedEngine:
    """An engine's instances read from elsewhere (as ``wfkit.connect`` keeps them)."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.registry = Registry()
        self.clock = wf.VirtualClock()
        self.error = None

    def record(self, instance_id: str) -> None:
        return None

    def records(self) -> list:
        return []

    def require(self, instance_id: str) -> None:
        raise InstanceNotFoundError(instance_id)

    def subscribe(self, callback: Callable[[Batch], None]) -> Callable[[], None]:
        return lambda: None

    def executing(self, instance_id: str) -> set[int]:
        return set()

    def orchestration(self, instance_id: str) -> None:
        return None

    def waiting_for_events(self, instance_id: str) -> list[str]:
        return []

    def pending_timers(self) -> list:
        return []

    def workflow_code(self, instance_id: str, name: str) -> None:
        raise LookupError(name)


def test_a_runtime_and_its_clients_reach_one_local_engine(wfr: wf.WorkflowRuntime) -> None:
    engine = engine_of(wfr)
    assert isinstance(engine, LocalEngine) and isinstance(engine, EngineView)
    assert engine_of(wf.DaprWorkflowClient(wfr)) is engine
    assert engine_of(engine) is engine
    assert local_engine_of(wfr, doing="a fork") is engine


def test_the_local_engine_reads_records_and_histories(wfr: wf.WorkflowRuntime) -> None:
    @wfr.workflow
    def hello(ctx, name):
        return f"hello {name}"

    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(hello, input="you", instance_id="h-1")
    client.wait_for_workflow_completion("h-1", timeout_in_seconds=10)
    engine = local_engine_of(wfr, doing="a test")
    record = engine.require("h-1")
    assert record.name == "hello" and record.status is wf.WorkflowStatus.COMPLETED
    assert [e.kind for e in engine.history("h-1")][:2] == ["WorkflowStarted", "ExecutionStarted"]
    assert engine.pinned_code("h-1") is None  # runs the registered code
    with pytest.raises(InstanceNotFoundError, match="no workflow instance with id 'nope'"):
        engine.require("nope")


def test_a_copy_of_another_engine_is_read_but_cannot_start_forks() -> None:
    copied = CopiedEngine()
    assert engine_of(copied) is copied
    with pytest.raises(EngineError, match="a fork starts a new instance"):
        local_engine_of(copied, doing="a fork")


def test_anything_else_is_not_an_engine() -> None:
    with pytest.raises(TypeError, match="WorkflowRuntime or Connection"):
        engine_of(object())


def test_an_object_holding_a_copied_engine_reaches_it() -> None:
    class Holder:
        """Stands for a Connection: it keeps its copy of a remote engine private."""

    holder, copied = Holder(), CopiedEngine()
    with pytest.raises(TypeError):
        engine_of(holder)
    attach_view(holder, copied)
    assert engine_of(holder) is copied
