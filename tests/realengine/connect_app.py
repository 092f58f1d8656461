"""Workflows run on Dapr's engine by Dapr's own SDK, for the tests that attach wfkit to it.

Names start with ``connect_`` so the tests can filter their own instances on an engine
that other tests use too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dapr.ext.workflow as dapr_wf
from dapr.ext.workflow.logger import LoggerOptions

from wfkit.interop.sidecar import Sidecar

WAIT = 60
_QUIET = LoggerOptions(log_level=logging.CRITICAL)


def connect_double(ctx: Any, x: int) -> int:
    return 2 * x


def connect_order(ctx: Any, amount: int):
    doubled = yield ctx.call_activity(connect_double, input=amount)
    approval = yield ctx.wait_for_external_event("approval")
    yield ctx.create_timer(timedelta(milliseconds=200))
    total = doubled + int(approval["extra"])
    return {"total": total, "approved_by": approval["by"]}


def connect_chain(ctx: Any, n: int):
    total = 0
    for i in range(n):
        total += yield ctx.call_activity(connect_double, input=i)
    return total


def connect_parent(ctx: Any, amount: int):
    """An order placed by a parent: the child waits for its approval."""
    result = yield ctx.call_child_workflow(connect_order, input=amount)
    return {"child": result}


@dataclass
class DaprApp:
    """Dapr's SDK on an engine: a started runtime with the workflows above, and a client."""

    sidecar: Sidecar
    runtime: Any
    client: Any


@contextmanager
def dapr_app(sidecar: Sidecar) -> Iterator[DaprApp]:
    runtime = dapr_wf.WorkflowRuntime(
        host=sidecar.host, port=str(sidecar.port), logger_options=_QUIET
    )
    runtime.register_workflow(connect_order)
    runtime.register_workflow(connect_chain)
    runtime.register_workflow(connect_parent)
    runtime.register_activity(connect_double)
    runtime.start()
    client = dapr_wf.DaprWorkflowClient(
        host=sidecar.host, port=str(sidecar.port), logger_options=_QUIET
    )
    try:
        yield DaprApp(sidecar, runtime, client)
    finally:
        runtime.shutdown()
        # Dapr's SDK marks a function registered for the whole process; the next runtime
        # (on another engine) registers it again
        for fn in (connect_order, connect_chain, connect_parent, connect_double):
            fn.__dict__.pop("_workflow_registered", None)
            fn.__dict__.pop("_activity_registered", None)
