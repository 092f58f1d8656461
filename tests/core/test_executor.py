"""The executor alone: histories built event by event (``wfkit.testing.history``), the
code run over them (``run_executor``), its decisions and outcome checked; no runtime,
store, thread or clock."""

from __future__ import annotations

import gc
import weakref
from datetime import timedelta

import pytest

import wfkit as wf
from wfkit.core._gc import gc_paused
from wfkit.core._history import TaskScheduled, TimerCreated
from wfkit.testing import START, run_executor
from wfkit.testing import history as h

LATER = START + timedelta(minutes=1)


def charge(ctx, amount):
    return f"receipt for {amount}"


def ship(ctx, receipt):
    return "shipped"


def refund(ctx, amount):
    return "refunded"


def order(ctx, amount):
    receipt = yield ctx.call_activity(charge, input=amount)
    shipped = yield ctx.call_activity(ship, input=receipt)
    return [receipt, shipped]


def started(workflow, input=None):
    """The first episode's events: the instance starts."""
    return [h.workflow_started(), h.execution_started(workflow, input)]


# --------------------------------------------------------------------------- a chain
def test_a_new_instance_decides_its_first_activity():
    run = run_executor(order, new=started(order, 5))
    assert run.status is None
    [decision] = run.decisions
    assert isinstance(decision, TaskScheduled)
    assert (decision.task_id, decision.name, decision.input) == (1, "charge", "5")
    assert decision.task_execution_id  # a deterministic id of the call, kept over retries


def test_a_chain_decides_the_next_activity_with_the_result_of_the_last():
    past = [*started(order, 5), h.task_scheduled(1, charge, 5)]
    new = [h.workflow_started(LATER), h.task_completed(1, "receipt for 5")]
    run = run_executor(order, past, new)
    assert run.status is None
    [decision] = run.decisions
    assert isinstance(decision, TaskScheduled)
    assert (decision.task_id, decision.name, decision.input) == (2, "ship", '"receipt for 5"')
    assert decision.timestamp == LATER  # the episode's time


def test_a_chain_completes_with_the_results_of_its_activities():
    past = [
        *started(order, 5),
        h.task_scheduled(1, charge, 5),
        h.workflow_started(LATER),
        h.task_completed(1, "r"),
        h.task_scheduled(2, ship, "r"),
    ]
    run = run_executor(order, past, [h.workflow_started(LATER), h.task_completed(2, "shipped")])
    assert run.status == "COMPLETED"
    assert run.output == ["r", "shipped"]
    assert run.decisions == []


def test_recorded_decisions_are_confirmed_not_made_again():
    past = [*started(order, 5), h.task_scheduled(1, charge, 5)]
    run = run_executor(order, past)  # nothing new: still waiting for the charge
    assert run.decisions == []
    assert run.status is None
    assert list(run.orchestration.pending_tasks) == [1]


def test_the_code_sees_replaying_only_for_the_past():
    seen = []

    def watcher(ctx):
        seen.append(ctx.is_replaying)
        yield ctx.create_timer(timedelta(hours=1))
        seen.append(ctx.is_replaying)

    past = [*started(watcher), h.timer_created(1, START + timedelta(hours=1))]
    run_executor(watcher, past, [h.timer_fired(1, START + timedelta(hours=1))])
    assert seen == [True, False]


def test_a_failed_activity_is_raised_into_the_code():
    def careful(ctx, amount):
        try:
            yield ctx.call_activity(charge, input=amount)
        except wf.TaskFailedError as exc:
            yield ctx.call_activity(refund, input=amount)
            return f"refunded after: {exc.details.error_type}"
        return "charged"

    past = [*started(careful, 5), h.task_scheduled(1, charge, 5)]
    run = run_executor(careful, past, [h.task_failed(1, "card declined", "ValueError")])
    assert [(d.event_id, d.name) for d in run.decisions] == [(2, "refund")]
    run = run_executor(
        careful,
        [*past, h.task_failed(1, "card declined", "ValueError"), h.task_scheduled(2, refund, 5)],
        [h.task_completed(2, "refunded")],
    )
    assert run.output == "refunded after: ValueError"


def test_a_failed_activity_with_a_retry_policy_decides_a_retry_timer():
    policy = wf.RetryPolicy(first_retry_interval=timedelta(seconds=30), max_number_of_attempts=2)

    def retried(ctx):
        return (yield ctx.call_activity(charge, input=1, retry_policy=policy))

    past = [*started(retried), h.task_scheduled(1, charge, 1)]
    run = run_executor(retried, past, [h.workflow_started(LATER), h.task_failed(1, "busy")])
    [timer] = run.decisions
    assert isinstance(timer, TimerCreated)
    assert (timer.task_id, timer.origin, timer.fire_at) == (
        2,
        "activity_retry",
        LATER + timedelta(seconds=30),
    )


# --------------------------------------------------------------------------- when_any
def approval(ctx):
    deadline = ctx.create_timer(timedelta(days=1))
    answer = ctx.wait_for_external_event("approve")
    winner = yield wf.when_any([deadline, answer])
    if winner is deadline:
        return "timed out"
    return f"approved by {answer.get_result()}"


DEADLINE = START + timedelta(days=1)
APPROVAL_WAITING = [
    *started(approval),
    h.timer_created(1, DEADLINE),
    h.event_wait_created(2, "approve"),
]


def test_when_any_of_a_timer_and_an_event_decides_both_waits():
    run = run_executor(approval, new=started(approval))
    assert run.decisions == APPROVAL_WAITING[2:]
    assert run.waiting_for_events == ["approve"]


def test_when_any_is_won_by_the_event_when_it_comes_first():
    run = run_executor(approval, APPROVAL_WAITING, [h.event_raised("APPROVE", "ada")])
    assert (run.status, run.output) == ("COMPLETED", "approved by ada")


def test_when_any_is_won_by_the_timer_when_it_fires_first():
    run = run_executor(
        approval, APPROVAL_WAITING, [h.timer_fired(1, DEADLINE), h.event_raised("approve", "ada")]
    )
    assert (run.status, run.output) == ("COMPLETED", "timed out")


def test_an_event_raised_before_the_wait_is_kept_for_it():
    run = run_executor(approval, new=[*started(approval), h.event_raised("approve", "bob")])
    assert run.output == "approved by bob"


def fan_out(ctx, n):
    receipts = yield wf.when_all([ctx.call_activity(charge, input=i) for i in range(n)])
    return receipts


FANNED_OUT = [*started(fan_out, 2), *(h.task_scheduled(i + 1, charge, i) for i in range(2))]


@pytest.mark.parametrize(
    ("workflow", "past", "new"),
    [
        (approval, APPROVAL_WAITING, [h.workflow_started()]),
        (approval, APPROVAL_WAITING, [h.event_raised("approve", "ada")]),
        (approval, APPROVAL_WAITING, [h.timer_fired(1, DEADLINE)]),
        (fan_out, FANNED_OUT, [h.task_completed(1, "a")]),
        (fan_out, FANNED_OUT, [h.task_completed(2, "b"), h.task_completed(1, "a")]),
    ],
    ids=["waiting", "event won", "timer won", "fan-out waiting", "fan-out done"],
)
def test_a_dropped_executor_is_freed_without_the_cyclic_collector(workflow, past, new):
    """The runtime drops executors by the million (evicted, finished): none may wait,
    generator, tasks and results, for a pass of the cyclic collector."""
    gc.collect()
    with gc_paused():
        run = run_executor(workflow, past, new)
        state = run.orchestration.state
        kept = [weakref.ref(o) for o in (run.orchestration, state, *state.tasks)]
        kept += [weakref.ref(t) for t in run.orchestration.yielded]
        run.orchestration.release()  # what the engine does as it drops an executor
        del run, state
        assert [ref() for ref in kept] == [None] * len(kept)


# --------------------------------------------------------------------------- non-determinism
def test_a_history_naming_another_activity_is_a_non_determinism_error():
    past = [*started(order, 5), h.task_scheduled(1, refund, 5)]
    run = run_executor(order, past, [h.task_completed(1, "refunded")])
    assert run.status == "FAILED"
    assert run.failure is not None
    assert run.failure.error_type == "NonDeterminismError"
    assert "call_activity('refund')" in run.failure.message
    assert "call_activity('charge')" in run.failure.message
    assert run.decisions == []


def test_a_history_with_a_timer_where_the_code_calls_an_activity_does_not_replay():
    past = [*started(order, 5), h.timer_created(1, LATER)]
    run = run_executor(order, past)
    assert run.failure is not None
    assert run.failure.error_type == "NonDeterminismError"
    assert "create_timer" in run.failure.message


def test_a_recorded_end_the_code_does_not_reach_does_not_replay():
    past = [*started(order, 5), h.task_scheduled(1, charge, 5), h.execution_completed("done")]
    run = run_executor(order, past)
    assert run.failure is not None
    assert run.failure.error_type == "NonDeterminismError"
    assert "the code has not returned" in run.failure.message


def test_a_renamed_input_replays_for_only_the_name_is_compared():
    past = [*started(order, 5), h.task_scheduled(1, charge, "another input")]
    run = run_executor(order, past, [h.task_completed(1, "r")])
    assert run.failure is None
    assert [d.name for d in run.decisions] == ["ship"]


# --------------------------------------------------------------------------- continue_as_new
def counter(ctx, n):
    if n >= 3:
        return n
    yield ctx.create_timer(timedelta(seconds=1))
    ctx.continue_as_new(n + 1, save_events=True)


def test_continue_as_new_ends_the_generation_with_the_new_input():
    past = [*started(counter, 1), h.timer_created(1, START + timedelta(seconds=1))]
    run = run_executor(counter, past, [h.timer_fired(1, START + timedelta(seconds=1))])
    assert (run.status, run.output) == ("CONTINUED_AS_NEW", 2)
    assert run.decisions == []


def test_continue_as_new_carries_over_the_events_not_yet_taken():
    past = [*started(counter, 1), h.timer_created(1, START + timedelta(seconds=1))]
    new = [h.event_raised("poke", {"x": 1}), h.timer_fired(1, START + timedelta(seconds=1))]
    run = run_executor(counter, past, new)
    assert run.outcome is not None
    assert run.outcome.carryover == [("poke", {"x": 1})]


def test_the_last_generation_completes():
    run = run_executor(counter, new=started(counter, 3))
    assert (run.status, run.output) == ("COMPLETED", 3)


# --------------------------------------------------------------------------- suspension
ORDER_CHARGING = [*started(order, 5), h.task_scheduled(1, charge, 5)]


def test_a_suspended_instance_buffers_what_arrives():
    run = run_executor(order, ORDER_CHARGING, [h.execution_suspended(), h.task_completed(1, "r")])
    assert run.decisions == []
    assert run.orchestration.is_suspended
    assert list(run.orchestration.pending_tasks) == [1]  # the completion is held back


def test_a_resumed_instance_takes_what_it_buffered():
    new = [h.execution_suspended(), h.task_completed(1, "r"), h.execution_resumed()]
    run = run_executor(order, ORDER_CHARGING, new)
    assert not run.orchestration.is_suspended
    assert [(d.event_id, d.name) for d in run.decisions] == [(2, "ship")]


def test_a_suspended_instance_can_be_terminated():
    new = [h.execution_suspended(), h.execution_terminated("stop")]
    run = run_executor(order, ORDER_CHARGING, new)
    assert (run.status, run.output) == ("TERMINATED", "stop")


# --------------------------------------------------------------------------- child workflows
def parent(ctx):
    result = yield ctx.call_child_workflow(order, input=7)
    return {"child": result}


def test_a_child_workflow_is_decided_under_an_instance_id_of_the_parent():
    [child] = run_executor(parent, new=started(parent)).decisions
    assert child == h.child_workflow_instance_created(1, order, 7)
    assert child.event_id == 1
    assert child.instance_id == "test-instance:0001"


def test_a_child_workflow_result_and_failure_reach_the_parent():
    past = [*started(parent), h.child_workflow_instance_created(1, order, 7)]
    done = run_executor(parent, past, [h.child_workflow_instance_completed(1, ["r", "s"])])
    assert done.output == {"child": ["r", "s"]}
    failed = run_executor(parent, past, [h.child_workflow_instance_failed(1, "no stock")])
    assert failed.status == "FAILED"
    assert failed.failure is not None
    assert "no stock" in failed.failure.message


# --------------------------------------------------------------------------- the builders
def test_built_events_encode_payloads_and_name_what_they_call():
    event = h.task_scheduled(3, charge, {"amount": 5})
    assert (event.task_id, event.activity_name, event.input) == (3, "charge", '{"amount": 5}')
    assert h.task_scheduled(1, "charge").input is None
    assert h.event_raised("go").input is None
    assert h.execution_started(order, 0).input == "0"
    fired = h.timer_fired(2, DEADLINE)
    assert (fired.timer_id, fired.timestamp) == (2, DEADLINE)
    assert h.event_wait_created(4, "go").is_optional
    assert h.workflow_started(patches=["p1"]).patches == ("p1",)


def test_an_unnamed_function_cannot_be_built_into_a_history():
    with pytest.raises(ValueError, match="cannot tell the name"):
        h.task_scheduled(1, lambda ctx: None)
