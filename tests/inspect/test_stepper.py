"""The replay stepper alone: histories built event by event, stepped through with the
workflow's code; where the code stands, what it waits for, and why a replay stops."""

from __future__ import annotations

from datetime import timedelta

from wfkit.core._history import TimerCreated, TimerFired
from wfkit.core._registry import Registered
from wfkit.core._state import WorkflowStatus
from wfkit.inspect._stepper import HistoryStepper, workflow_status
from wfkit.testing import START
from wfkit.testing import history as h

LATER = START + timedelta(minutes=5)


def charge(ctx, amount):
    return amount


def order(ctx, amount):
    receipt = yield ctx.call_activity(charge, input=amount)
    yield ctx.create_timer(LATER)
    return receipt


def approval(ctx, _):
    answer = yield ctx.wait_for_external_event("approve")
    return answer


CODE = Registered.of(order, "order")


def order_history() -> list:
    return [
        h.workflow_started(),
        h.execution_started(order, 7),
        h.task_scheduled(1, charge, 7),
        h.workflow_started(),
        h.task_completed(1, 7),
        h.timer_created(2, LATER),
        h.workflow_started(LATER),
        h.timer_fired(2, LATER),
        h.execution_completed(7),
    ]


def test_a_step_shows_where_the_code_stands_and_what_it_waits_for() -> None:
    stepper = HistoryStepper("i", CODE, order_history())
    assert stepper.status() == WorkflowStatus.PENDING.name
    stepper.apply_to(2)
    assert stepper.status() == "RUNNING"
    pending, count = stepper.pending()
    assert count == 1 and (pending[0].kind, pending[0].name) == ("activity", "charge")
    frame = stepper.code_frame()
    assert frame is not None and frame.f_code is order.__code__
    assert frame.f_locals["amount"] == 7
    stepper.apply_to(5)
    pending, _ = stepper.pending()
    assert [(p.kind, p.fire_at) for p in pending] == [("timer", LATER)]
    stepper.apply_to(8)
    assert stepper.status() == "COMPLETED" and stepper.pending() == ((), 0)
    assert stepper.ended_at == 7  # the timer's firing let the code return
    # once ended, the frame is the orchestrator's own, as it was when it returned
    ended = stepper.code_frame()
    assert ended is not None and ended.f_locals["receipt"] == 7


def test_events_can_be_stepped_one_by_one_as_they_arrive() -> None:
    stepper = HistoryStepper("i", lambda name: CODE)
    for position, event in enumerate(order_history()):
        stepper.step(event, position)
    assert stepper.applied == 8 and stepper.status() == "COMPLETED"
    assert stepper.replay_error is None


def test_a_payload_less_timer_gets_its_details_from_the_code() -> None:
    events = order_history()
    created = events[5]
    assert isinstance(created, TimerCreated)
    events[5] = TimerCreated(
        timestamp=created.timestamp, task_id=2, fire_at=created.timestamp, origin=""
    )
    events[7] = TimerFired(timestamp=LATER, timer_id=-1, fire_at=LATER)
    stepper = HistoryStepper("i", CODE, events)
    stepper.apply_to(len(events) - 1)
    assert stepper.status() == "COMPLETED"
    resolved = stepper.events[5]
    assert isinstance(resolved, TimerCreated)
    assert (resolved.origin, resolved.fire_at) == ("create_timer", LATER)
    fired = stepper.events[7]
    assert isinstance(fired, TimerFired) and fired.timer_id == 2


def test_an_event_wait_is_listed_once_and_its_timer_not_at_all() -> None:
    events = [
        h.workflow_started(),
        h.execution_started(approval),
        h.event_wait_created(1, "approve"),
    ]
    stepper = HistoryStepper("i", Registered.of(approval, "approval"), events)
    stepper.apply_to(2)
    pending, count = stepper.pending()
    assert count == 1 and [(p.kind, p.name) for p in pending] == [("event", "approve")]
    assert stepper.optional_timers == [1]


def test_code_that_no_longer_follows_the_history_is_a_replay_error() -> None:
    events = order_history()
    events[2] = h.task_scheduled(1, "refund", 7)
    stepper = HistoryStepper("i", CODE, events)
    stepper.apply_to(len(events) - 1)
    assert stepper.replay_error is not None
    assert stepper.replay_error.startswith("NonDeterminismError: history event 2")
    assert stepper.status() == "FAILED"


def test_a_replay_status_names_the_instance_status_it_stands_for() -> None:
    assert workflow_status("SUSPENDED") is WorkflowStatus.SUSPENDED
    assert workflow_status("CONTINUED_AS_NEW") is WorkflowStatus.RUNNING
