"""The seed documents' Python examples run unchanged on wfkit (only the import line differs),
plus the patterns the seeds name without code: compensation, child workflows, retries."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from seeds import fan_out_fan_in, monitor, purchase_order, request_escalation, task_chaining
from support import complete, kinds, output, raw_history, scheduled, settle

import wfkit as wf
from wfkit.core._history import EventRaised, TaskScheduled, TimerCreated

RUNNING = wf.WorkflowStatus.RUNNING
COMPLETED = wf.WorkflowStatus.COMPLETED
FAILED = wf.WorkflowStatus.FAILED


# ---------------------------------------------------------------- task chaining (seed 003)
def register_chain(wfr: wf.WorkflowRuntime) -> None:
    wfr.register_workflow(task_chaining.task_chain_workflow)
    for fn in (task_chaining.step1, task_chaining.step2, task_chaining.step3):
        wfr.register_activity(fn)
    wfr.register_activity(task_chaining.error_handler)


def test_task_chaining_passes_each_result_to_the_next_step(wfr, client):
    register_chain(wfr)
    iid = client.schedule_new_workflow(task_chaining.task_chain_workflow, input=1)
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    # step1: 1 + 1 = 2, step2: 2 * 2 = 4, step3: 4 ^ 2 = 6
    assert output(state) == [2, 4, 6]
    assert state.name == "task_chain_workflow"
    assert state.serialized_input == "1"
    assert kinds(client, iid) == [
        "workflowStarted",
        "executionStarted",
        "taskScheduled",
        "workflowStarted",
        "taskCompleted",
        "taskScheduled",
        "workflowStarted",
        "taskCompleted",
        "taskScheduled",
        "workflowStarted",
        "taskCompleted",
        "executionCompleted",
    ]
    assert scheduled(client, iid) == [
        ("taskScheduled", 1, "step1"),
        ("taskScheduled", 2, "step2"),
        ("taskScheduled", 3, "step3"),
    ]
    inputs = [e.input for e in raw_history(wfr, iid) if isinstance(e, TaskScheduled)]
    assert inputs == ["1", "2", "4"]
    done = [e for e in client.get_workflow_history(iid) if e.task_scheduled_id is not None]
    assert [e.task_scheduled_id for e in done] == [1, 2, 3]


def test_task_chaining_runs_the_error_handler_and_fails_when_a_step_raises(wfr, client):
    register_chain(wfr)

    def step2(ctx, activity_input):
        raise ValueError(f"step 2 cannot handle {activity_input}")

    wfr.register_activity(step2, name="step2")
    iid = client.schedule_new_workflow(task_chaining.task_chain_workflow, input=1)
    state = complete(client, iid)

    assert state.runtime_status is FAILED
    failure = state.failure_details
    assert failure.error_type == "TaskFailedError"
    assert "Activity task #2 failed: step 2 cannot handle 2" in failure.message
    assert failure.stack_trace
    assert state.serialized_output is None
    # step3 never ran; the error handler did, with the error's text
    assert scheduled(client, iid) == [
        ("taskScheduled", 1, "step1"),
        ("taskScheduled", 2, "step2"),
        ("taskScheduled", 3, "error_handler"),
    ]
    history = client.get_workflow_history(iid)
    task_failed = [e for e in history if e.event_type.value == "taskFailed"]
    assert len(task_failed) == 1
    assert task_failed[0].task_scheduled_id == 2
    assert task_failed[0].failure_details.error_type == "ValueError"
    assert task_failed[0].failure_details.message == "step 2 cannot handle 2"
    handler_input = [
        e.input
        for e in raw_history(wfr, iid)
        if isinstance(e, TaskScheduled) and e.activity_name == "error_handler"
    ]
    assert len(handler_input) == 1
    assert "step 2 cannot handle 2" in handler_input[0]
    # the handler completed before the workflow re-raised
    assert kinds(client, iid)[-3:] == ["workflowStarted", "taskCompleted", "executionCompleted"]


# ---------------------------------------------------------------- fan-out/fan-in (seed 003)
def test_fan_out_fan_in_sums_all_parallel_results(wfr, client, monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(fan_out_fan_in, "time", SimpleNamespace(sleep=sleeps.append))
    wfr.register_workflow(fan_out_fan_in.batch_processing_workflow)
    for fn in (
        fan_out_fan_in.get_work_batch,
        fan_out_fan_in.process_work_item,
        fan_out_fan_in.process_results,
    ):
        wfr.register_activity(fn)

    n = 6
    iid = client.schedule_new_workflow(fan_out_fan_in.batch_processing_workflow, input=n)
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert state.serialized_output is None  # the workflow returns nothing
    assert sleeps == [5] * n  # every work item ran, without sleeping for real

    events = raw_history(wfr, iid)
    calls = [e for e in events if isinstance(e, TaskScheduled)]
    assert [c.activity_name for c in calls] == [
        "get_work_batch",
        *["process_work_item"] * n,
        "process_results",
    ]
    assert [c.task_id for c in calls] == list(range(1, n + 3))
    assert sorted(int(c.input) for c in calls[1:-1]) == list(range(1, n + 1))
    # all N items were scheduled in one episode, before any of them completed
    kinds_ = [e.kind for e in events]
    first_item = kinds_.index("TaskScheduled", kinds_.index("TaskCompleted"))
    assert kinds_[first_item : first_item + n] == ["TaskScheduled"] * n
    # total = 2 * (1 + ... + n)
    assert calls[-1].input == str(n * (n + 1))


# ---------------------------------------------------------------- monitor (seed 003)
def test_monitor_continues_as_new_each_period_and_alerts_once(wfr, client, monkeypatch, capsys):
    statuses = iter(["healthy", "unhealthy", "unhealthy", "healthy"])
    checks: list[list[str]] = []

    def choice(options):
        checks.append(options)
        return next(statuses)

    monkeypatch.setattr(monitor, "random", SimpleNamespace(choice=choice))
    wfr.clock.auto_skip = False
    wfr.register_workflow(monitor.status_monitor_workflow)
    wfr.register_activity(monitor.check_status)
    wfr.register_activity(monitor.send_alert)
    t0 = wfr.clock.now()

    iid = client.schedule_new_workflow(
        monitor.status_monitor_workflow, input=monitor.JobStatus(job_id="job1", is_healthy=False)
    )
    settle(wfr)

    def generation() -> list[tuple[str, int, str | None]]:
        state = client.get_workflow_state(iid)
        assert state.runtime_status is RUNNING
        history = client.get_workflow_history(iid)
        # each generation starts a fresh history, numbering task ids from 1 again
        assert [e.event_type.value for e in history[:2]] == ["workflowStarted", "executionStarted"]
        return scheduled(client, iid)

    assert len(checks) == 1
    assert generation() == [("taskScheduled", 1, "check_status"), ("timerCreated", 2, None)]
    assert [t.fire_at for t in wfr.clock.pending_timers()] == [t0 + timedelta(seconds=60)]

    wfr.clock.advance(timedelta(seconds=59))
    assert len(checks) == 1  # not yet due

    wfr.clock.advance(timedelta(seconds=1))  # healthy: the next check is 60 s later
    assert len(checks) == 2
    # unhealthy after healthy: the alert is scheduled without yield, before the timer
    assert generation() == [
        ("taskScheduled", 1, "check_status"),
        ("taskScheduled", 2, "send_alert"),
        ("timerCreated", 3, None),
    ]
    state = client.get_workflow_state(iid)
    assert state.serialized_input is not None
    assert '"is_healthy": true' in state.serialized_input
    assert [t.fire_at for t in wfr.clock.pending_timers()] == [t0 + timedelta(seconds=65)]

    wfr.clock.advance(timedelta(seconds=5))  # unhealthy again: no second alert
    assert len(checks) == 3
    assert generation() == [("taskScheduled", 1, "check_status"), ("timerCreated", 2, None)]
    assert '"is_healthy": false' in client.get_workflow_state(iid).serialized_input

    wfr.clock.advance(timedelta(seconds=5))
    assert len(checks) == 4
    assert [t.fire_at for t in wfr.clock.pending_timers()] == [t0 + timedelta(seconds=130)]
    # the current generation started at the virtual time its timer fired
    history = client.get_workflow_history(iid)
    assert history[0].timestamp == t0 + timedelta(seconds=70)
    assert checks == [["healthy", "unhealthy"]] * 4

    out = capsys.readouterr().out
    # not replaying on the warm path: each generation prints once
    assert out.count("Job 'job1' is healthy.") == 2
    assert out.count("Job 'job1' is unhealthy.") == 2
    assert out.count("*** Alert: Job 'job1' is unhealthy!") == 1
    assert client.get_workflow_state(iid).runtime_status is RUNNING
    client.terminate_workflow(iid)


# ---------------------------------------------------------------- purchase order (seed 003)
def register_purchase_order(wfr: wf.WorkflowRuntime) -> None:
    wfr.register_workflow(purchase_order.purchase_order_workflow)
    wfr.register_activity(purchase_order.send_approval_request)
    wfr.register_activity(purchase_order.place_order)


def test_purchase_order_under_1000_is_auto_approved(wfr, client):
    register_purchase_order(wfr)
    order = purchase_order.Order(cost=999.5, product="pens", quantity=3)
    iid = client.schedule_new_workflow(purchase_order.purchase_order_workflow, input=order)
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert output(state) == "Auto-approved"
    assert scheduled(client, iid) == []
    assert kinds(client, iid) == ["workflowStarted", "executionStarted", "executionCompleted"]


def test_purchase_order_approved_by_event(wfr, client, capsys):
    register_purchase_order(wfr)
    order = purchase_order.Order(cost=2500, product="laptop", quantity=1)
    iid = client.schedule_new_workflow(purchase_order.purchase_order_workflow, input=order)
    settle(wfr)
    assert client.get_workflow_state(iid).runtime_status is RUNNING
    assert scheduled(client, iid) == [
        ("taskScheduled", 1, "send_approval_request"),
        ("timerCreated", 2, None),  # the event wait's optional timer
        ("timerCreated", 3, None),  # the 24 h timeout
    ]

    client.raise_workflow_event(iid, "approval_received", data={"approver": "Alice"})
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert output(state) == "Approved by 'Alice'"
    assert scheduled(client, iid)[-1] == ("taskScheduled", 4, "place_order")
    assert wfr.clock.now() == state.created_at  # no time had to pass
    # the activities receive the order as Dapr gives it: a SimpleNamespace
    out = capsys.readouterr().out
    order_repr = "namespace(cost=2500, product='laptop', quantity=1)"
    assert f"Sending approval request for order: {order_repr}" in out
    assert f"Placing order: {order_repr}" in out


def test_purchase_order_is_cancelled_after_24_hours(wfr, client):
    register_purchase_order(wfr)
    t0 = wfr.clock.now()
    order = purchase_order.Order(cost=1000, product="desk", quantity=2)
    iid = client.schedule_new_workflow(purchase_order.purchase_order_workflow, input=order)
    # auto-skip fast-forwards the 24 h timer, and says it won a race with the approval
    with pytest.warns(wf.WfkitWarning, match=f"instance '{iid}'.*'approval_received'"):
        state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert output(state) == "Cancelled"
    assert wfr.clock.now() == t0 + timedelta(hours=24)
    assert state.last_updated_at == t0 + timedelta(hours=24)
    history = client.get_workflow_history(iid)
    fired = [e for e in history if e.event_type.value == "timerFired"]
    assert [e.timestamp for e in fired] == [t0 + timedelta(hours=24)]
    assert all(name != "place_order" for _, _, name in scheduled(client, iid))


# ---------------------------------------------------------------- request escalation (seed 000)
def test_request_escalation_auto_approves_small_orders(wfr, client):
    calls: list = []
    workflow = request_escalation.build(wfr, calls)
    iid = client.schedule_new_workflow(workflow, input='{"amount": 250, "id": "o1"}')
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert state.name == "request_escalation"
    assert state.serialized_output is None
    assert calls == [("auto_approve_activity", {"amount": 250, "id": "o1"})]
    assert scheduled(client, iid) == [("taskScheduled", 1, "auto_approve_activity")]


def test_request_escalation_approved_by_event_name_in_other_case(wfr, client):
    calls: list = []
    request_escalation.build(wfr, calls)
    iid = client.schedule_new_workflow("request_escalation", input={"amount": 5000})
    settle(wfr)
    assert client.get_workflow_state(iid).runtime_status is RUNNING
    client.raise_workflow_event(iid, "HUMAN_APPROVAL", data={"approved": True})
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert calls == [("process_approval_activity", {"approved": True})]
    raised = [e for e in raw_history(wfr, iid) if isinstance(e, EventRaised)]
    assert [(e.event_name, e.input) for e in raised] == [("HUMAN_APPROVAL", '{"approved": true}')]


def test_request_escalation_times_out_after_7_days_in_milliseconds(wfr, client):
    calls: list = []
    request_escalation.build(wfr, calls)
    t0 = wfr.clock.now()
    began = time.perf_counter()
    iid = client.schedule_new_workflow("request_escalation", input='{"amount": 1000}')
    with pytest.warns(wf.WfkitWarning, match="no_auto_skip"):
        state = complete(client, iid)
    elapsed = time.perf_counter() - began
    assert state.runtime_status is COMPLETED
    assert calls == [("handle_timeout_activity", {"amount": 1000})]
    assert wfr.clock.now() == t0 + timedelta(days=7)
    # the week passed on the virtual clock, not the wall's (the bench's escalation row
    # measures how fast: well under 100 ms); a generous bound keeps a loaded machine quiet
    assert elapsed < 5
    timers = [e for e in raw_history(wfr, iid) if isinstance(e, TimerCreated)]
    assert [(t.task_id, t.fire_at, t.origin) for t in timers] == [
        (1, timers[0].fire_at, "external_event"),
        (2, t0 + timedelta(days=7), "create_timer"),
    ]
    assert timers[0].is_optional


def test_request_escalation_without_auto_skip_waits_for_the_approval(wfr, client):
    calls: list = []
    request_escalation.build(wfr, calls)
    wfr.clock.auto_skip = False
    t0 = wfr.clock.now()
    iid = client.schedule_new_workflow("request_escalation", input='{"amount": 1500}')
    wfr.clock.advance(timedelta(days=6))
    assert wfr.clock.now() == t0 + timedelta(days=6)
    assert client.get_workflow_state(iid).runtime_status is RUNNING
    assert calls == []
    # with auto-skip off a wait does not move time: it times out on the wall clock
    with pytest.raises(TimeoutError):
        client.wait_for_workflow_completion(iid, timeout_in_seconds=0.05)
    assert wfr.clock.now() == t0 + timedelta(days=6)

    client.raise_workflow_event(iid, "human_approval", data={"approved": True, "by": "bob"})
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert calls == [("process_approval_activity", {"approved": True, "by": "bob"})]
    assert state.last_updated_at == t0 + timedelta(days=6)
    assert wfr.clock.pending_timers() == []
    wfr.clock.advance(timedelta(days=2))  # the 7-day timer is gone with the instance
    assert [c[0] for c in calls] == ["process_approval_activity"]


# ---------------------------------------------------------------- compensation (saga)
def test_saga_undoes_completed_steps_in_reverse_when_a_later_one_fails(wfr, client):
    booked: list[str] = []

    def book(ctx, item: str) -> str:
        if item == "car":
            raise RuntimeError("no cars left")
        booked.append(item)
        return f"{item}-ref"

    def cancel(ctx, ref: str) -> None:
        booked.remove(ref.removesuffix("-ref"))

    def trip_workflow(ctx: wf.DaprWorkflowContext, items: list[str]):
        compensations: list[str] = []
        try:
            for item in items:
                ref = yield ctx.call_activity(book, input=item)
                compensations.append(ref)
        except wf.TaskFailedError as failure:
            for ref in reversed(compensations):
                yield ctx.call_activity(cancel, input=ref)
            return {"status": "compensated", "undone": compensations[::-1], "why": str(failure)}
        return {"status": "booked", "refs": compensations}

    wfr.register_workflow(trip_workflow)
    wfr.register_activity(book)
    wfr.register_activity(cancel)

    ok = client.schedule_new_workflow(trip_workflow, input=["flight", "hotel"])
    assert output(complete(client, ok)) == {
        "status": "booked",
        "refs": ["flight-ref", "hotel-ref"],
    }
    booked.clear()

    iid = client.schedule_new_workflow(trip_workflow, input=["flight", "hotel", "car", "tour"])
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    result = output(state)
    assert result["status"] == "compensated"
    assert result["undone"] == ["hotel-ref", "flight-ref"]
    assert "no cars left" in result["why"]
    assert booked == []
    calls = [
        (e.activity_name, e.input) for e in raw_history(wfr, iid) if isinstance(e, TaskScheduled)
    ]
    assert calls == [
        ("book", '"flight"'),
        ("book", '"hotel"'),
        ("book", '"car"'),
        ("cancel", '"hotel-ref"'),
        ("cancel", '"flight-ref"'),
    ]


# ---------------------------------------------------------------- child workflows
def child_workflow(ctx: wf.DaprWorkflowContext, n: int):
    doubled = yield ctx.call_activity(double, input=n)
    if doubled > 100:
        raise ValueError(f"{n} is too large")
    return {"child": ctx.instance_id, "value": doubled}


def double(ctx, n: int) -> int:
    return 2 * n


def test_child_workflows_get_default_ids_and_return_results(wfr, client):
    def parent_workflow(ctx: wf.DaprWorkflowContext, numbers: list[int]):
        first = yield ctx.call_child_workflow(child_workflow, input=numbers[0])
        rest = yield wf.when_all(
            [ctx.call_child_workflow(child_workflow, input=n) for n in numbers[1:]]
        )
        named = yield ctx.call_child_workflow(
            "child_workflow", input=0, instance_id=f"{ctx.instance_id}-named"
        )
        return [first, *rest, named]

    wfr.register_workflow(parent_workflow)
    wfr.register_workflow(child_workflow)
    wfr.register_activity(double)

    numbers = [1, 2, 3] + [4] * 15  # enough children to reach task id 0x10
    iid = client.schedule_new_workflow(parent_workflow, input=numbers, instance_id="order-7")
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    result = output(state)
    expected_ids = [f"order-7:{i:04x}" for i in range(1, len(numbers) + 1)]
    assert expected_ids[15] == "order-7:0010"
    assert result == [
        *({"child": c, "value": 2 * n} for c, n in zip(expected_ids, numbers, strict=True)),
        {"child": "order-7-named", "value": 0},
    ]
    assert scheduled(client, iid) == [
        ("childWorkflowInstanceCreated", i, "child_workflow") for i in range(1, len(numbers) + 2)
    ]
    for child_id in [*expected_ids, "order-7-named"]:
        child = client.get_workflow_state(child_id)
        assert child.runtime_status is COMPLETED
        assert child.name == "child_workflow"
        assert child.parent_instance_id == "order-7"
        assert scheduled(client, child_id) == [("taskScheduled", 1, "double")]
    completed = [
        e.task_scheduled_id
        for e in client.get_workflow_history(iid)
        if e.event_type.value == "childWorkflowInstanceCompleted"
    ]
    assert sorted(completed) == list(range(1, len(numbers) + 2))


def test_child_workflow_failure_reaches_the_parent_as_task_failed_error(wfr, client):
    def parent_workflow(ctx: wf.DaprWorkflowContext, n: int):
        try:
            yield ctx.call_child_workflow(child_workflow, input=n)
        except wf.TaskFailedError as error:
            return {
                "message": str(error),
                "type": error.details.error_type,
                "inner": error.details.message,
            }
        return "no failure"

    def strict_parent(ctx: wf.DaprWorkflowContext, n: int):
        value = yield ctx.call_child_workflow(child_workflow, input=n)
        return value

    wfr.register_workflow(parent_workflow)
    wfr.register_workflow(strict_parent)
    wfr.register_workflow(child_workflow)
    wfr.register_activity(double)

    iid = client.schedule_new_workflow(parent_workflow, input=60, instance_id="p")
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    result = output(state)
    assert result["type"] == "ValueError"
    assert result["inner"] == "60 is too large"
    assert "Sub-orchestration task #1 failed: 60 is too large" in result["message"]
    child = client.get_workflow_state("p:0001")
    assert child.runtime_status is FAILED
    assert child.failure_details.error_type == "ValueError"
    failed = [
        e
        for e in client.get_workflow_history(iid)
        if e.event_type.value == "childWorkflowInstanceFailed"
    ]
    assert [(e.task_scheduled_id, e.failure_details.message) for e in failed] == [
        (1, "60 is too large")
    ]

    # not caught: the parent fails too
    iid = client.schedule_new_workflow(strict_parent, input=70, instance_id="q")
    state = complete(client, iid)
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "TaskFailedError"
    assert "70 is too large" in state.failure_details.message


# ---------------------------------------------------------------- retry policies
def flaky_factory(failures: int):
    attempts: list[str] = []

    def flaky(ctx, value: str) -> str:
        attempts.append(ctx.task_execution_id)
        if len(attempts) <= failures:
            raise ConnectionError(f"attempt {len(attempts)} failed")
        return f"{value} after {len(attempts)} attempts"

    return flaky, attempts


def retry_workflow_factory(policy: wf.RetryPolicy):
    def retrying_workflow(ctx: wf.DaprWorkflowContext, value: str):
        result = yield ctx.call_activity("flaky", input=value, retry_policy=policy)
        return result

    return retrying_workflow


def run_retry(wfr, client, policy, failures):
    flaky, attempts = flaky_factory(failures)
    wfr.register_activity(flaky, name="flaky")
    wfr.register_workflow(retry_workflow_factory(policy), name="retrying_workflow")
    iid = client.schedule_new_workflow("retrying_workflow", input="ok")
    return iid, complete(client, iid), attempts


def test_retry_delays_grow_by_the_backoff_coefficient_up_to_the_cap(wfr, client):
    t0 = wfr.clock.now()
    policy = wf.RetryPolicy(
        first_retry_interval=timedelta(seconds=1),
        max_number_of_attempts=6,
        backoff_coefficient=2.0,
        max_retry_interval=timedelta(seconds=5),
    )
    iid, state, attempts = run_retry(wfr, client, policy, failures=4)
    assert state.runtime_status is COMPLETED
    assert output(state) == "ok after 5 attempts"
    assert len(attempts) == 5
    assert len(set(attempts)) == 1  # one execution id across the attempts of a call

    # delays 1, 2, 4, then 8 capped at 5: timers fire at +1, +3, +7, +12
    events = raw_history(wfr, iid)
    timers = [e for e in events if isinstance(e, TimerCreated)]
    assert [t.fire_at - t0 for t in timers] == [timedelta(seconds=s) for s in (1, 3, 7, 12)]
    assert {t.origin for t in timers} == {"activity_retry"}
    # every attempt and every retry timer takes the next task id
    assert scheduled(client, iid) == [
        ("taskScheduled", 1, "flaky"),
        ("timerCreated", 2, None),
        ("taskScheduled", 3, "flaky"),
        ("timerCreated", 4, None),
        ("taskScheduled", 5, "flaky"),
        ("timerCreated", 6, None),
        ("taskScheduled", 7, "flaky"),
        ("timerCreated", 8, None),
        ("taskScheduled", 9, "flaky"),
    ]
    # each attempt is scheduled when its timer fires, in virtual time
    starts = [e.timestamp - t0 for e in events if isinstance(e, TaskScheduled)]
    assert starts == [timedelta(seconds=s) for s in (0, 1, 3, 7, 12)]
    assert wfr.clock.now() == t0 + timedelta(seconds=12)


def test_retry_attempts_count_the_first_one(wfr, client):
    policy = wf.RetryPolicy(first_retry_interval=timedelta(minutes=1), max_number_of_attempts=3)
    iid, state, attempts = run_retry(wfr, client, policy, failures=10)
    assert len(attempts) == 3
    assert state.runtime_status is FAILED
    assert state.failure_details.error_type == "TaskFailedError"
    assert "attempt 3 failed" in state.failure_details.message
    # the last attempt's task id is the one reported
    assert "Activity task #5 failed" in state.failure_details.message
    assert [k for k, _, _ in scheduled(client, iid)] == [
        "taskScheduled",
        "timerCreated",
        "taskScheduled",
        "timerCreated",
        "taskScheduled",
    ]


def test_retry_timeout_bounds_the_total_time_spent_retrying(wfr, client):
    t0 = wfr.clock.now()
    policy = wf.RetryPolicy(
        first_retry_interval=timedelta(seconds=10),
        max_number_of_attempts=100,
        retry_timeout=timedelta(seconds=25),
    )
    _, state, attempts = run_retry(wfr, client, policy, failures=100)
    # attempts start at +0, +10, +20; the next would start at +30, past the 25 s bound
    assert len(attempts) == 3
    assert state.runtime_status is FAILED
    assert wfr.clock.now() == t0 + timedelta(seconds=20)


def test_retry_stops_at_once_on_non_retryable_errors(wfr, client):
    policy = wf.RetryPolicy(
        first_retry_interval=timedelta(seconds=1),
        max_number_of_attempts=5,
        non_retryable_error_types=[ConnectionError],
    )
    iid, state, attempts = run_retry(wfr, client, policy, failures=10)
    assert len(attempts) == 1
    assert state.runtime_status is FAILED
    assert scheduled(client, iid) == [("taskScheduled", 1, "flaky")]


def test_child_workflow_retry_takes_a_new_task_id_and_reuses_the_child_id(wfr, client):
    runs: list[str] = []

    def shaky_child(ctx: wf.DaprWorkflowContext, _):
        runs.append(ctx.instance_id)
        if len(runs) < 2:
            raise RuntimeError("child failed once")
        return len(runs)

    def parent(ctx: wf.DaprWorkflowContext, _):
        policy = wf.RetryPolicy(
            first_retry_interval=timedelta(seconds=30), max_number_of_attempts=3
        )
        value = yield ctx.call_child_workflow(shaky_child, retry_policy=policy)
        return value

    wfr.register_workflow(parent)
    wfr.register_workflow(shaky_child)
    iid = client.schedule_new_workflow(parent, instance_id="r")
    state = complete(client, iid)
    assert state.runtime_status is COMPLETED
    assert output(state) == 2
    # as in Dapr, the retry keeps the child id computed for the first attempt
    assert runs == ["r:0001", "r:0001"]
    assert scheduled(client, iid) == [
        ("childWorkflowInstanceCreated", 1, "shaky_child"),
        ("timerCreated", 2, None),
        ("childWorkflowInstanceCreated", 3, "shaky_child"),
    ]
    assert client.get_workflow_state("r:0001").runtime_status is COMPLETED
    assert client.get_workflow_state("r:0003") is None
    timer = next(e for e in raw_history(wfr, iid) if isinstance(e, TimerCreated))
    assert timer.origin == "child_workflow_retry"
