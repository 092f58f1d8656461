"""Dapr's own engine, driven the way its sidecar drives it: every step hands the whole
history back to ``_OrchestrationExecutor.execute`` (old events replayed, then new ones)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from dapr.ext.workflow import DaprWorkflowContext, when_all, when_any
from dapr.ext.workflow._durabletask import worker
from dapr.ext.workflow._durabletask.internal import helpers as ph
from dapr.ext.workflow._durabletask.internal import shared

START = datetime(2025, 1, 1)


def chain(ctx, n):
    for i in range(n):
        yield ctx.call_activity("noop", input=i)
    return n


def fan_out(ctx, n):
    results = yield when_all([ctx.call_activity("noop", input=i) for i in range(n)])
    return len(results)


def escalation(ctx, order_str):
    order = json.loads(order_str)
    if order.get("amount", 0) < 1000:
        yield ctx.call_activity("auto_approve_activity", input=order)
        return
    approval_event = ctx.wait_for_external_event("human_approval")
    timeout = ctx.create_timer(timedelta(days=7))
    winner = yield when_any([approval_event, timeout])
    if winner == timeout:
        yield ctx.call_activity("handle_timeout_activity", input=order)
        return
    yield ctx.call_activity("process_approval_activity", input=approval_event.get_result())


def _executor() -> worker._OrchestrationExecutor:
    registry = worker._Registry()
    for fn in (chain, fan_out, escalation):

        def wrapped(ctx, inp, fn=fn):
            return fn(DaprWorkflowContext(ctx), inp)

        registry.add_named_orchestrator(fn.__name__, wrapped)
    logger = logging.getLogger("bench-dapr")
    logger.setLevel(logging.WARNING)
    return worker._OrchestrationExecutor(registry, logger)


def run(name: str, payload: object) -> str | None:
    """Run one instance to completion; activities return their input, timers fire at once
    (virtual time). Returns the encoded result."""
    executor = _executor()
    now = START
    old: list = []
    new = [
        ph.new_workflow_started_event(now),
        ph.new_execution_started_event(name, "bench", shared.to_json(payload)),
    ]
    while True:
        result = executor.execute("bench", old, new)
        old.extend(new)
        new = [ph.new_workflow_started_event(now)]
        completions = []
        for action in result.actions:
            kind = action.WhichOneof("workflowActionType")
            if kind == "completeWorkflow":
                return action.completeWorkflow.result.value or None
            if kind == "scheduleTask":
                task = action.scheduleTask
                old.append(ph.new_task_scheduled_event(action.id, task.name, task.input.value))
                completions.append(ph.new_task_completed_event(action.id, task.input.value))
            elif kind == "createTimer":
                fire_at = action.createTimer.fireAt
                old.append(ph.new_timer_created_event(action.id, fire_at))
                if fire_at.seconds < 253402300799:  # not the optional timer of an event wait
                    now = max(now, fire_at.ToDatetime())
                    completions.append(ph.new_timer_fired_event(action.id, fire_at))
        new.extend(completions)
