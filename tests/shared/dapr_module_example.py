"""A workflow module written for Dapr's ``dapr.ext.workflow``.

``test_api.py`` runs this text on wfkit after changing only its import line, and checks
that the original text imports and registers under the real Dapr SDK.
"""

from datetime import timedelta

import dapr.ext.workflow as wf

wfr = wf.WorkflowRuntime()

charge_retry = wf.RetryPolicy(
    first_retry_interval=timedelta(seconds=5),
    max_number_of_attempts=3,
    backoff_coefficient=2.0,
)

charge_attempts = []


@wfr.workflow(name="order_pipeline")
def order_pipeline(ctx: wf.DaprWorkflowContext, order: dict):
    prices = yield wf.when_all(
        [ctx.call_activity(price_item, input=item) for item in order["items"]]
    )
    receipt = yield ctx.call_activity(charge, input=sum(prices), retry_policy=charge_retry)
    yield ctx.create_timer(fire_at=timedelta(hours=1))
    ctx.set_custom_status("shipped")
    return {"prices": prices, "receipt": receipt}


@wfr.activity
async def price_item(ctx: wf.WorkflowActivityContext, item: dict) -> int:
    return item["qty"] * item["unit_price"]


@wfr.activity(name="charge")
def charge(ctx: wf.WorkflowActivityContext, amount: int) -> str:
    charge_attempts.append(amount)
    if len(charge_attempts) == 1:
        raise RuntimeError("payment gateway unavailable, try again")
    return f"charged {amount}"


def main(order: dict):
    """Run one order through the pipeline and return its final state."""
    wfr.start()
    try:
        client = wf.DaprWorkflowClient()
        instance_id = client.schedule_new_workflow(workflow=order_pipeline, input=order)
        return client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
    finally:
        wfr.shutdown()
