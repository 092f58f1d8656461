"""A runtime and a client on each engine, and what a test reads back from both.

Dapr's side is its own SDK (``dapr.ext.workflow``) connected to the sidecar; wfkit's side
is ``wfkit.WorkflowRuntime()`` as a user creates it (virtual clock, default store). Both
are read through their public clients only (``get_workflow_state``,
``get_workflow_history``), so what is compared is what a user of either sees.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dapr.ext.workflow as dapr_wf
from dapr.ext.workflow.logger import LoggerOptions

import wfkit
from wfkit.interop.sidecar import Sidecar

#: Every wait is bounded, and generous: the machine is shared and the engine is real.
WAIT = 60

#: The history events that record a decision of the workflow.
SCHEDULING = ("taskScheduled", "timerCreated", "childWorkflowInstanceCreated")
ASKS = ("taskScheduled", "childWorkflowInstanceCreated")
ANSWERS = (
    "taskCompleted",
    "taskFailed",
    "childWorkflowInstanceCompleted",
    "childWorkflowInstanceFailed",
)

_QUIET = LoggerOptions(log_level=logging.ERROR)


@dataclass
class Engine:
    name: str
    module: Any  # the package the code imports as ``wf``
    runtime: Any
    client: Any


@contextmanager
def engine(name: str, sidecar: Sidecar | None = None) -> Iterator[Engine]:
    """A fresh runtime (not yet started) and a client, on Dapr's engine or on wfkit."""
    if name == "dapr":
        assert sidecar is not None
        runtime = dapr_wf.WorkflowRuntime(
            host=sidecar.host, port=str(sidecar.port), logger_options=_QUIET
        )
        client = dapr_wf.DaprWorkflowClient(
            host=sidecar.host, port=str(sidecar.port), logger_options=_QUIET
        )
        made = Engine(name, dapr_wf, runtime, client)
    else:
        runtime = wfkit.WorkflowRuntime()
        made = Engine(name, wfkit, runtime, wfkit.DaprWorkflowClient(runtime))
    try:
        yield made
    finally:
        runtime.shutdown()


def decode(text: str | None) -> Any:
    return None if not text else json.loads(text)


def scheduled(client: Any, instance_id: str) -> list[tuple[str, int, str | None]]:
    """(event type, task id, name) of every decision the history records, in order."""
    return [
        (e.event_type.value, e.event_id, e.name)
        for e in client.get_workflow_history(instance_id)
        if e.event_type.value in SCHEDULING
    ]


def observe(client: Any, instance_id: str) -> dict[str, Any]:
    """Status, output, failure type, custom status and decisions of an instance and of
    the child workflows it started (under the default ids ``<parent>:<task id>``)."""
    state = client.get_workflow_state(instance_id, fetch_payloads=True)
    assert state is not None, f"no instance {instance_id!r}"
    failure = state.failure_details
    decisions = scheduled(client, instance_id)
    children = {
        f"{instance_id}:{task_id:04x}": observe(client, f"{instance_id}:{task_id:04x}")
        for kind, task_id, _ in decisions
        if kind == "childWorkflowInstanceCreated"
    }
    return {
        "status": state.runtime_status.name,
        "output": decode(state.serialized_output),
        "failure_type": failure.error_type if failure is not None else None,
        "custom_status": state.serialized_custom_status,
        "scheduled": decisions,
        "children": {k.removeprefix(instance_id): v for k, v in children.items()},
    }


def _progress(client: Any, instance_id: str) -> tuple[str, int, int]:
    """(status, history length, activities and children not answered yet)."""
    kinds = [e.event_type.value for e in client.get_workflow_history(instance_id)]
    unanswered = sum(k in ASKS for k in kinds) - sum(k in ANSWERS for k in kinds)
    state = client.get_workflow_state(instance_id, fetch_payloads=False)
    return (state.runtime_status.name if state else "PENDING", len(kinds), unanswered)


def wait_idle(client: Any, instance_id: str, *, quiet: float = 0.4, timeout: float = WAIT) -> None:
    """Wait until the instance waits for time or an event: every activity and child it
    started has answered, and its history has not grown for ``quiet`` seconds. Reading
    never moves wfkit's clock, so a pending timer stays pending on both engines."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = _progress(client, instance_id)
        if now != last:
            last, since = now, time.monotonic()
        elif now[0] != "PENDING" and now[2] == 0 and time.monotonic() - since >= quiet:
            return
        time.sleep(0.05)
    raise AssertionError(f"{instance_id!r} did not come to rest in {timeout} s: {last}")
