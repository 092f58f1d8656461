"""wfkit workloads, with no-op activities."""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import wfkit as wf
from wfkit.core._orchestration import Orchestration

START = datetime(2025, 1, 1)


def noop(ctx, x):
    return x


def chain(ctx, n):
    for i in range(n):
        yield ctx.call_activity(noop, input=i)
    return n


def fan_out(ctx, n):
    results = yield wf.when_all([ctx.call_activity(noop, input=i) for i in range(n)])
    return len(results)


def week_timer(ctx, _):
    yield ctx.create_timer(timedelta(days=7))
    return "done"


def auto_approve_activity(ctx, order):
    return "auto-approved"


def handle_timeout_activity(ctx, order):
    return "timed out"


def process_approval_activity(ctx, approval):
    return "approved"


def request_escalation_workflow(ctx, order_str):
    order = json.loads(order_str) if isinstance(order_str, str) else order_str
    amount = order.get("amount", 0)
    if amount < 1000:
        yield ctx.call_activity(auto_approve_activity, input=order)
        return
    approval_event = ctx.wait_for_external_event("human_approval")
    timeout = ctx.create_timer(timedelta(days=7))
    winner = yield wf.when_any([approval_event, timeout])
    if winner == timeout:
        yield ctx.call_activity(handle_timeout_activity, input=order)
        return
    yield ctx.call_activity(process_approval_activity, input=approval_event.get_result())


def runtime(store: object) -> wf.WorkflowRuntime:
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=store)
    for fn in (noop, auto_approve_activity, handle_timeout_activity, process_approval_activity):
        wfr.register_activity(fn)
    for fn in (chain, fan_out, week_timer, request_escalation_workflow):
        wfr.register_workflow(fn)
    return wfr


class Stores:
    """Store specs by label; file stores get a fresh file per run."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="wfkit-bench-")
        self._count = 0

    def supported(self, label: str) -> bool:
        try:
            runtime(self.make(label))._engine.store.close()
        except (ValueError, ImportError):
            return False
        return True

    def make(self, label: str) -> object:
        if label == "memory":
            return "memory"
        if label == "default":
            # what WorkflowRuntime() uses (DuckDB in memory), a fresh one for each run
            return ":memory:"
        if label != "file":
            raise ValueError(f"store label must be 'default', 'memory' or 'file', not {label!r}")
        self._count += 1
        return str(Path(self._dir.name) / f"run{self._count}.duckdb")


def run_one(store: object, workflow, payload) -> float:
    """Seconds from scheduling one instance to having its result (runtime already started)."""
    wfr = runtime(store)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        start = time.perf_counter()
        iid = client.schedule_new_workflow(workflow, input=payload)
        # the escalation takes its timeout on purpose: no race warning per run
        with warnings.catch_warnings(action="ignore", category=wf.WfkitWarning):
            state = client.wait_for_workflow_completion(iid, timeout_in_seconds=600)
        elapsed = time.perf_counter() - start
        assert state.runtime_status is wf.WorkflowStatus.COMPLETED, state.failure_details
        return elapsed
    finally:
        wfr.shutdown()


def run_timers(store: object, n: int) -> float:
    """Seconds to schedule ``n`` instances that each wait 7 days, and see them all complete."""
    wfr = runtime(store)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        start = time.perf_counter()
        ids = [client.schedule_new_workflow(week_timer, input=i) for i in range(n)]
        for iid in ids:
            state = client.wait_for_workflow_completion(iid, timeout_in_seconds=600)
            assert state.runtime_status is wf.WorkflowStatus.COMPLETED
        elapsed = time.perf_counter() - start
        assert wfr.clock.now() == START + timedelta(days=7)
        return elapsed
    finally:
        wfr.shutdown()


def first_sql_after(store: object, workflow, payload) -> float:
    """Seconds of the first ``wfr.sql`` after a run: an in-memory DuckDB store writes the
    rows it held back then (the run itself does not wait for DuckDB)."""
    wfr = runtime(store)
    wfr.sql("SELECT 1")  # imports pandas and NumPy, once a process: not the write's cost
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        iid = client.schedule_new_workflow(workflow, input=payload)
        client.wait_for_workflow_completion(iid, timeout_in_seconds=600)
        start = time.perf_counter()
        count = wfr.sql("SELECT count(*) AS n FROM history")["n"][0]
        elapsed = time.perf_counter() - start
        assert count > payload
        return elapsed
    finally:
        wfr.shutdown()


def schedule_many(store: object, n: int, *, started: bool) -> float:
    """Seconds for ``n`` ``schedule_new_workflow`` calls (instances waiting 7 days). With
    ``started``, the runtime runs them meanwhile and the time is until all are waiting."""
    wfr = runtime(store)
    if started:
        wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        start = time.perf_counter()
        for i in range(n):
            client.schedule_new_workflow(week_timer, input=i)
        if started:
            wfr.clock.advance(timedelta(0))  # returns once every instance is waiting
        elapsed = time.perf_counter() - start
        return elapsed
    finally:
        wfr.shutdown()


def chains_on_file(store: object, instances: int, steps: int) -> float:
    """Seconds for ``instances`` instances, each a chain of ``steps`` activities, scheduled
    together and all completed (a file store: every turn is a durable commit)."""
    wfr = runtime(store)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        start = time.perf_counter()
        ids = [client.schedule_new_workflow(chain, input=steps) for _ in range(instances)]
        for iid in ids:
            state = client.wait_for_workflow_completion(iid, timeout_in_seconds=600)
            assert state.runtime_status is wf.WorkflowStatus.COMPLETED
        return time.perf_counter() - start
    finally:
        wfr.shutdown()


def escalation(store: object) -> float:
    """The seed's request escalation through its 7-day timeout branch."""
    return run_one(store, request_escalation_workflow, json.dumps({"amount": 5000}))


def recorded_chain_history(n: int) -> list:
    """Events of a finished chain of ``n`` activities (3 events per activity)."""
    wfr = runtime("memory")
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        iid = client.schedule_new_workflow(chain, input=n)
        client.wait_for_workflow_completion(iid, timeout_in_seconds=600)
        return [s.event for s in wfr._engine.store.history(iid)]
    finally:
        wfr.shutdown()


def cold_replay(events: list) -> float:
    """Seconds to replay ``events`` from the start against the chain code."""
    registry = runtime("memory")._registry
    start = time.perf_counter()
    orchestration = Orchestration("replay", registry.workflow)
    for position, event in enumerate(events):
        orchestration.apply(event, replaying=True, position=position)
    elapsed = time.perf_counter() - start
    assert orchestration.outcome is not None and orchestration.outcome.status == "COMPLETED"
    return elapsed
