"""Workflows the HTTP and command-line tests serve: seed 000's request escalation, seed
003's async-HTTP order workflow, and a few small ones for the error paths."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from seeds import request_escalation

import wfkit as wf


def build(wfr: wf.WorkflowRuntime, calls: list[Any] | None = None) -> list[Any]:
    """Register everything on ``wfr``; returns the list the seed's activities append to."""
    calls = calls if calls is not None else []
    request_escalation.build(wfr, calls)

    @wfr.activity(name="process_order")
    def process_order(ctx, order):
        return {"Processed": True}

    @wfr.workflow(name="OrderProcessingWorkflow")
    def order_processing_workflow(ctx: wf.DaprWorkflowContext, order):
        ctx.set_custom_status("shipping")
        yield ctx.create_timer(timedelta(hours=36))  # shipping takes a while
        return (yield ctx.call_activity(process_order, input=order))

    @wfr.workflow(name="failing")
    def failing(ctx: wf.DaprWorkflowContext, _):
        raise ValueError("this workflow always fails")
        yield  # a generator

    @wfr.workflow(name="echo")
    def echo(ctx: wf.DaprWorkflowContext, value):
        return value
        yield  # a generator

    @wfr.workflow(name="waiter")
    def waiter(ctx: wf.DaprWorkflowContext, _):
        return (yield ctx.wait_for_external_event("go"))

    return calls
