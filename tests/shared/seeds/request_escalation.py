"""Seed 000's request-escalation workflow (its indentation restored).

The seed registers the workflow with ``@wfr.workflow(name=...)`` on a runtime it does not
show, and does not show its three activities; ``build`` takes that runtime, defines the
activities (recording their calls in ``calls``) and the workflow, whose body is verbatim.
"""

import json
from datetime import timedelta

from wfkit import DaprWorkflowContext, when_any


def build(wfr, calls=None):
    calls = calls if calls is not None else []

    @wfr.activity(name="auto_approve_activity")
    def auto_approve_activity(ctx, order):
        calls.append(("auto_approve_activity", order))
        return "auto-approved"

    @wfr.activity(name="handle_timeout_activity")
    def handle_timeout_activity(ctx, order):
        calls.append(("handle_timeout_activity", order))
        return "timed out"

    @wfr.activity(name="process_approval_activity")
    def process_approval_activity(ctx, approval_result):
        calls.append(("process_approval_activity", approval_result))
        return "processed"

    @wfr.workflow(name="request_escalation")
    def request_escalation_workflow(ctx: DaprWorkflowContext, order_str: str):
        order = json.loads(order_str) if isinstance(order_str, str) else order_str
        amount = order.get("amount", 0)

        # Auto-approve orders under $1000
        if amount < 1000:
            yield ctx.call_activity(auto_approve_activity, input=order)
            return

        # Orders $1000+ require human approval (7 days max)
        approval_event = ctx.wait_for_external_event("human_approval")
        timeout = ctx.create_timer(timedelta(days=7))
        winner = yield when_any([approval_event, timeout])

        if winner == timeout:
            yield ctx.call_activity(handle_timeout_activity, input=order)
            return

        approval_result = approval_event.get_result()
        yield ctx.call_activity(process_approval_activity, input=approval_result)

    return request_escalation_workflow
