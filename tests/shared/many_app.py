"""A file-backed runtime for ``wfkit run many_app.py:double --inputs FILE`` tests: each
instance waits an hour of virtual time, then doubles its input in a slow activity that
logs the input it ran for."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import wfkit as wf

wfr = wf.WorkflowRuntime(store=os.environ["MANY_STORE"])
LOG = os.environ.get("MANY_LOG")


@wfr.activity
def work(ctx: wf.WorkflowActivityContext, x: int) -> int:
    time.sleep(float(os.environ.get("MANY_SLEEP", "0")))
    if LOG:
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(f"{x}\n")
    return 2 * x


@wfr.workflow
def double(ctx: wf.DaprWorkflowContext, x: int):
    yield ctx.create_timer(timedelta(hours=1))
    return (yield ctx.call_activity(work, input=x))
