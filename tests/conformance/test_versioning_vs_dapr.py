"""Patching (``ctx.is_patched``) and named workflow versions, against Dapr's executor.

Each case replays the same history (old events) and applies the same new events with
Dapr's ``_OrchestrationExecutor`` and with wfkit's executor, then compares what each
decides and the version data each hands back for the episode's ``WorkflowStarted``
(Dapr's sidecar records it as ``OrchestratorStarted.version``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import dapr.ext.workflow as dapr_wf
import pytest
from dapr.ext.workflow._durabletask import worker as dapr_worker
from dapr.ext.workflow.logger import LoggerOptions

from wfkit.core._history import (
    ExecutionStarted,
    HistoryEvent,
    TaskCompleted,
    TaskScheduled,
    WorkflowStarted,
)
from wfkit.core._orchestration import Orchestration
from wfkit.core._registry import Registry
from wfkit.interop.dapr import to_protobuf

NOW = datetime(2025, 1, 1)
QUIET = logging.getLogger("wfkit.conformance.versioning")
QUIET.setLevel(logging.CRITICAL)
LOGGER = LoggerOptions(log_level=logging.CRITICAL, log_handler=logging.NullHandler())


def order(ctx, x):
    if ctx.is_patched("validate-first"):
        yield ctx.call_activity("validate", input=x)
    charged = yield ctx.call_activity("charge", input=x)
    if ctx.is_patched("notify"):
        yield ctx.call_activity("notify", input=charged)
    if ctx.is_patched("notify"):  # asked again: the same answer, recorded once
        pass
    return charged


def order_v1(ctx, x):
    charged = yield ctx.call_activity("charge", input=x)
    return ["v1", charged]


def order_v2(ctx, x):
    yield ctx.call_activity("validate", input=x)
    charged = yield ctx.call_activity("charge", input=x)
    return ["v2", charged]


def unflag(fn: Any) -> None:
    """Forget Dapr's registration marks, so every case registers the functions afresh."""
    fn.__dict__.pop("_workflow_registered", None)
    fn.__dict__.pop("_dapr_alternate_name", None)


def started(**version: Any) -> WorkflowStarted:
    return WorkflowStarted(timestamp=NOW, **version)


def execution(name: str) -> ExecutionStarted:
    return ExecutionStarted(timestamp=NOW, workflow_name=name, input="5")


def scheduled(task_id: int, name: str, payload: str = "5") -> TaskScheduled:
    return TaskScheduled(timestamp=NOW, task_id=task_id, activity_name=name, input=payload)


def completed(task_id: int, result: str) -> TaskCompleted:
    return TaskCompleted(timestamp=NOW, task_scheduled_id=task_id, result=result)


def on_dapr(
    runtime: dapr_wf.WorkflowRuntime, old: list[HistoryEvent], new: list[HistoryEvent]
) -> tuple[list[tuple[int, str]], list[str], str | None]:
    registry = runtime._WorkflowRuntime__worker._registry  # type: ignore[attr-defined]
    executor = dapr_worker._OrchestrationExecutor(registry, QUIET)
    result = executor.execute("i", to_protobuf(old, instance_id="i"), to_protobuf(new))
    calls = [
        (action.id, action.scheduleTask.name)
        for action in result.actions
        if action.WhichOneof("workflowActionType") == "scheduleTask"
    ]
    patches = list(dict.fromkeys(result.patches))  # Dapr lists a patch each time it is asked
    return calls, patches, result.version_name


def on_wfkit(
    registry: Registry, old: list[HistoryEvent], new: list[HistoryEvent]
) -> tuple[list[tuple[int, str]], list[str], str | None]:
    orchestration = Orchestration("i", registry.workflow)
    for event in old:
        orchestration.apply(event, replaying=True)
    for event in new:
        orchestration.apply(event, replaying=False)
    assert orchestration.outcome is None or orchestration.outcome.status == "COMPLETED"
    calls = [
        (d.task_id, d.activity_name)
        for d in orchestration.take_decisions()
        if isinstance(d, TaskScheduled)
    ]
    version_name, patches = orchestration.version_stamp()
    return calls, list(patches), version_name


PATCH_CASES = {
    # a new instance takes every patched path and records the patches it met
    "new instance": ([], [started(), execution("order")], [(1, "validate")], ["validate-first"]),
    # an instance recorded before the patches: the replayed part keeps the old path,
    # what runs past the history takes the new one
    "recorded before the patches": (
        [started(), execution("order"), scheduled(1, "charge")],
        [started(), completed(1, "10")],
        [(2, "notify")],
        ["notify"],
    ),
    # an instance that recorded a patch keeps taking its path on replay
    "recorded with a patch": (
        [
            started(patches=("validate-first",)),
            execution("order"),
            scheduled(1, "validate"),
        ],
        [started(), completed(1, "null")],
        [(2, "charge")],
        ["validate-first"],
    ),
}


@pytest.mark.parametrize("case", PATCH_CASES)
def test_is_patched_answers_as_on_dapr(case: str) -> None:
    old, new, calls, patches = PATCH_CASES[case]
    dapr_runtime = dapr_wf.WorkflowRuntime(logger_options=LOGGER)
    unflag(order)
    dapr_runtime.register_workflow(order, name="order")
    unflag(order)
    registry = Registry()
    registry.add("workflow", order, "order")
    expected = (calls, patches, None)
    assert on_dapr(dapr_runtime, old, new) == expected
    assert on_wfkit(registry, old, new) == expected


VERSION_CASES = {
    "a new instance runs the latest": ([], [started(), execution("order")], "v2", "validate"),
    "an instance keeps the version it recorded": (
        [started(version_name="v1"), execution("order")],
        [started()],
        "v1",
        "charge",
    ),
}


@pytest.mark.parametrize("case", VERSION_CASES)
def test_named_versions_run_as_on_dapr(case: str) -> None:
    old, new, version, first_call = VERSION_CASES[case]
    dapr_runtime = dapr_wf.WorkflowRuntime(logger_options=LOGGER)
    registry = Registry()
    for fn, name, latest in ((order_v1, "v1", False), (order_v2, "v2", True)):
        unflag(fn)
        dapr_runtime.register_versioned_workflow(
            fn, name="order", version_name=name, is_latest=latest
        )
        unflag(fn)
        registry.add_version(fn, "order", name, latest)
    expected = ([(1, first_call)], [], version)
    assert on_dapr(dapr_runtime, old, new) == expected
    assert on_wfkit(registry, old, new) == expected
