"""Differential conformance: the same workflow code on Dapr's engine and on wfkit.

Each scenario runs three times with the same activity results and the same deliveries:
on Dapr's own executor behind the sidecar driver, on wfkit's executor behind the same
driver, and on wfkit's public runtime (virtual clock, client calls). Results, final
statuses, failure types and messages, custom statuses and every action (kind, name,
task id, timer fire time, input, child instance id) must agree, at the end and at each
snapshot taken between scripted steps. Every history wfkit's runtime stored must also
replay cold to the same end.

Where wfkit deliberately does better than Dapr, a test below says so and asserts both
behaviours.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

pytest.importorskip(
    "dapr.ext.workflow",
    reason="the conformance suite needs Dapr's engine: pip install 'dapr[workflow]==1.19.0' "
    "(the dev extra pins it)",
)

import dapr.ext.workflow as dapr_wf
from activities import ATTEMPTS, boom, double, echo, flaky
from conformance_script import (
    ROOT,
    Advance,
    Played,
    Raise,
    Resume,
    Scenario,
    Snapshot,
    Suspend,
    Terminate,
    summaries,
)
from conformance_script import play as play_script
from dapr_driver import DaprEngine, Failure, Report, Sidecar, WfkitEngine
from wfkit_side import RuntimeTarget, assert_cold_replay_matches, cold_replay

import wfkit
from wfkit.store import MemoryStore

#: The workflow API the code below uses for when_all, when_any, RetryPolicy and
#: TaskFailedError: Dapr's module or wfkit's, set before each engine runs the code.
wf: Any = wfkit

START = datetime(2024, 3, 1, 9, 0, 0)


# --------------------------------------------------------------------------- time
@dataclass
class TimeScale:
    """Every duration in the workflows below is :func:`wait`: a timedelta times ``factor``.
    The offline targets play at 1; the real engine, on the wall clock, plays a long-waiting
    scenario shortened by a factor of its own and is compared with Dapr's executor offline
    at the same factor (test_real_engine.SHORTENED). The logic never changes."""

    factor: float = 1.0


TIME = TimeScale()


def wait(**parts: float) -> timedelta:
    return timedelta(**parts) * TIME.factor


@contextmanager
def time_scaled(factor: float) -> Iterator[None]:
    TIME.factor = factor
    try:
        yield
    finally:
        TIME.factor = 1.0


# --------------------------------------------------------------------------- workflows
def chain(ctx, n):
    a = yield ctx.call_activity(double, input=n)
    b = yield ctx.call_activity(double, input=a)
    c = yield ctx.call_activity(echo, input=[n, a, b])
    return c


def fan_out(ctx, items):
    results = yield wf.when_all([ctx.call_activity(double, input=i) for i in items])
    total = yield ctx.call_activity(echo, input=sum(results))
    empty = yield wf.when_all([])
    return [results, total, empty]


def approval(ctx, hours):
    timer = ctx.create_timer(wait(hours=hours))
    event = ctx.wait_for_external_event("approval")
    winner = yield wf.when_any([event, timer])
    if winner == timer:
        return "timed out"
    return ["approved", event.get_result(), ctx.current_utc_datetime.isoformat()]


def race(ctx, _):
    work = ctx.call_activity(echo, input="work")
    timer = ctx.create_timer(wait(minutes=10))
    first = yield wf.when_any([work, timer])
    nudge = ctx.wait_for_external_event("nudge")
    late = ctx.call_activity(double, input=21)
    second = yield wf.when_any([nudge, late])
    return [first == work, first.get_result(), second == late, second.get_result()]


def early_events(ctx, _):
    yield ctx.create_timer(wait(minutes=5))
    orders = []
    for _ in range(3):
        orders.append((yield ctx.wait_for_external_event("Order")))
    payment = yield ctx.wait_for_external_event("PAYMENT")
    return [orders, payment]


def wait_with_timeout(ctx, _):
    try:
        first = yield ctx.wait_for_external_event("reply", timeout=wait(hours=1))
    except TimeoutError as exc:
        first = ["timeout", str(exc)]
    second = yield ctx.wait_for_external_event("reply", timeout=wait(hours=2))
    return [first, second, ctx.current_utc_datetime.isoformat()]


def retrying(ctx, _):
    exhausted = wf.RetryPolicy(
        first_retry_interval=wait(seconds=10),
        max_number_of_attempts=6,
        backoff_coefficient=3.0,
        max_retry_interval=wait(seconds=60),
        retry_timeout=wait(minutes=3),
    )
    try:
        yield ctx.call_activity(flaky, input={"key": "a", "fails": 100}, retry_policy=exhausted)
        first: Any = "unexpected"
    except wf.TaskFailedError as exc:
        first = [str(exc), exc.details.error_type, exc.details.message]
    patient = wf.RetryPolicy(
        first_retry_interval=wait(seconds=5),
        max_number_of_attempts=3,
        backoff_coefficient=2.0,
    )
    attempts = yield ctx.call_activity(flaky, input={"key": "b", "fails": 2}, retry_policy=patient)
    return [first, attempts]


def child_double(ctx, n):
    value = yield ctx.call_activity(double, input=n)
    return value


def child_fail(ctx, message):
    yield ctx.call_activity(echo, input=message)
    raise ValueError(message)


def parent(ctx, _):
    results = yield wf.when_all([ctx.call_child_workflow(child_double, input=i) for i in (1, 2)])
    named = yield ctx.call_child_workflow(child_double, input=10, instance_id="named-child")
    try:
        yield ctx.call_child_workflow(child_fail, input="child broke")
        caught: Any = "unexpected"
    except wf.TaskFailedError as exc:
        caught = [str(exc), exc.details.error_type, exc.details.message]
    return [results, named, caught]


def parent_uncaught(ctx, _):
    yield ctx.call_child_workflow(child_fail, input="bad child")
    return "unreachable"


def retrying_parent(ctx, _):
    policy = wf.RetryPolicy(first_retry_interval=wait(minutes=1), max_number_of_attempts=2)
    try:
        yield ctx.call_child_workflow(child_fail, input="again", retry_policy=policy)
    except wf.TaskFailedError as exc:
        return str(exc)


def counter(ctx, state):
    n, keep = state["n"], state["keep"]
    if n < 2:
        yield ctx.call_activity(echo, input=n)
        ctx.continue_as_new({"n": n + 1, "keep": keep}, save_events=keep)
        return None
    try:
        note = yield ctx.wait_for_external_event("note", timeout=wait(hours=1))
    except TimeoutError:
        note = "lost"
    return [n, note]


def two_events(ctx, _):
    a = yield ctx.wait_for_external_event("a")
    doubled = yield ctx.call_activity(double, input=a)
    b = yield ctx.wait_for_external_event("b")
    return [a, doubled, b]


def waits_forever(ctx, _):
    value = yield ctx.wait_for_external_event("never")
    return value


def parent_of_waiter(ctx, _):
    yield ctx.call_activity(echo, input="before")
    value = yield ctx.call_child_workflow(waits_forever)
    return value


def raises(ctx, n):
    value = yield ctx.call_activity(double, input=n)
    raise ValueError(f"bad value {value}")


def raises_at_once(ctx, _):
    raise KeyError("no such thing")


def not_a_generator(ctx, n):
    return {"plain": n}


def catches(ctx, _):
    try:
        yield ctx.call_activity(boom, input="disk full")
    except wf.TaskFailedError as exc:
        return [str(exc), exc.details.error_type, exc.details.message]


def activity_fails(ctx, _):
    yield ctx.call_activity(boom, input="no retry")


def with_status(ctx, _):
    ctx.set_custom_status("starting")
    yield ctx.call_activity(echo, input=1)
    ctx.set_custom_status("half way")
    yield ctx.create_timer(wait(minutes=1))
    ctx.set_custom_status("done")
    return "ok"


def guids(ctx, _):
    a = str(ctx.new_guid())
    b = str(ctx.new_guid())
    yield ctx.create_timer(wait(seconds=30))
    c = str(ctx.new_guid())
    echoed = yield ctx.call_activity(echo, input=[a, b, c])
    d = str(ctx.new_guid())
    return [*echoed, d, ctx.current_utc_datetime.isoformat()]


def timers(ctx, _):
    at = ctx.current_utc_datetime + wait(hours=3)
    yield wf.when_all([ctx.create_timer(at), ctx.create_timer(wait(hours=1))])
    yield ctx.create_timer(wait(days=7))
    return ctx.current_utc_datetime.isoformat()


# deliberate differences
def returns_a_set(ctx, _):
    yield ctx.call_activity(echo, input=1)
    return {1, 2}


def yields_none_first(ctx, _):
    yield None
    return "unreachable"


def yields_none_later(ctx, _):
    yield ctx.call_activity(echo, input=1)
    yield None
    return "unreachable"


def three_events(ctx, _):
    values = []
    for _ in range(3):
        values.append((yield ctx.wait_for_external_event("x")))
    return values


def random_numbers(ctx, _):
    yield ctx.create_timer(wait(seconds=1))
    return [ctx.random_int(0, 10**9), ctx.random_string(8)]


def replay_flags(ctx, _):
    flags = [ctx.is_replaying]
    yield ctx.create_timer(wait(seconds=1))
    flags.append(ctx.is_replaying)
    yield ctx.call_activity(echo, input=1)
    flags.append(ctx.is_replaying)
    return flags


WORKFLOWS = [
    chain,
    fan_out,
    approval,
    race,
    early_events,
    wait_with_timeout,
    retrying,
    child_double,
    child_fail,
    parent,
    parent_uncaught,
    retrying_parent,
    counter,
    two_events,
    waits_forever,
    parent_of_waiter,
    raises,
    raises_at_once,
    not_a_generator,
    catches,
    activity_fails,
    with_status,
    guids,
    timers,
    returns_a_set,
    yields_none_first,
    yields_none_later,
    three_events,
    random_numbers,
    replay_flags,
]
ACTIVITIES = [echo, double, boom, flaky]


# --------------------------------------------------------------------------- running
def use(module: Any) -> None:
    """Point the workflows above at ``module``'s API and reset the activities' state."""
    global wf
    wf = module
    ATTEMPTS.clear()


def play(target: Any, scenario: Scenario) -> Played:
    use(target.module)
    return play_script(target, scenario)


def on_dapr(scenario: Scenario) -> Played:
    return play(Sidecar(DaprEngine(WORKFLOWS, ACTIVITIES), START), scenario)


def on_wfkit_engine(scenario: Scenario) -> Played:
    return play(Sidecar(WfkitEngine(WORKFLOWS, ACTIVITIES), START), scenario)


def on_wfkit_runtime(scenario: Scenario, warm: int | None = None) -> tuple[Played, RuntimeTarget]:
    target = RuntimeTarget(WORKFLOWS, ACTIVITIES, START, warm=warm)
    try:
        return play(target, scenario), target
    finally:
        target.close()


def check_cold_replays(target: RuntimeTarget, reports: dict[str, Report]) -> None:
    use(wfkit)
    for instance_id, report in reports.items():
        history = target.history(instance_id)
        assert_cold_replay_matches(instance_id, history, target.wfr._registry.workflow, report)


# --------------------------------------------------------------------------- scenarios
H = timedelta(hours=1)

SCENARIOS = [
    Scenario("chain", chain, 3),
    Scenario("fan-out-fan-in", fan_out, [1, 2, 3, 4, 5]),
    Scenario(
        "when-any-event-first", approval, 24, steps=(Advance(H / 2), Raise("approval", "ann"))
    ),
    Scenario("when-any-timer-first", approval, 1, steps=(Snapshot(), Advance(2 * H), Snapshot())),
    Scenario("when-any-activity-timer-event", race, before_start=(Raise("Nudge", "poke"),)),
    Scenario(
        "events-before-wait-same-name-other-case",
        early_events,
        before_start=(Raise("order", 1), Raise("ORDER", 2), Raise("payment", "paid")),
        steps=(Raise("oRdEr", 3), Snapshot()),
    ),
    Scenario(
        "wait-with-timeout", wait_with_timeout, steps=(Advance(2 * H), Raise("reply", "late"))
    ),
    Scenario(
        "wait-with-timeout-event-in-time",
        wait_with_timeout,
        steps=(Raise("Reply", "soon"), Advance(H), Raise("REPLY", "again")),
    ),
    Scenario("wait-with-timeout-uncaught", wait_with_timeout, steps=(Raise("reply", "once"),)),
    Scenario("retry-backoff-max-interval-timeout", retrying),
    Scenario("child-workflows", parent),
    Scenario("child-failure-propagates", parent_uncaught),
    Scenario("child-retry", retrying_parent),
    Scenario(
        "continue-as-new-save-events",
        counter,
        {"n": 0, "keep": True},
        before_start=(Raise("note", "hello"),),
    ),
    Scenario(
        "continue-as-new-drop-events",
        counter,
        {"n": 0, "keep": False},
        before_start=(Raise("note", "hello"),),
    ),
    Scenario(
        "suspend-events-resume",
        two_events,
        steps=(Suspend(), Raise("a", 5), Raise("b", "bee"), Snapshot(), Resume()),
    ),
    Scenario("terminate-recursive", parent_of_waiter, steps=(Snapshot(), Terminate({"by": "op"}))),
    Scenario("orchestrator-raises", raises, 4),
    Scenario("orchestrator-raises-at-once", raises_at_once),
    Scenario("not-a-generator", not_a_generator, 7),
    Scenario("activity-fails-caught", catches),
    Scenario("activity-fails-uncaught", activity_fails),
    Scenario("custom-status", with_status, steps=(Snapshot(),)),
    Scenario("new-guid", guids),
    Scenario("timers", timers),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_same_behaviour_as_dapr(scenario: Scenario) -> None:
    dapr = on_dapr(scenario)
    engine = on_wfkit_engine(scenario)
    runtime, target = on_wfkit_runtime(scenario)
    expected = summaries(dapr.reports)
    assert summaries(engine.reports) == expected
    assert summaries(runtime.reports) == expected
    for dapr_snap, engine_snap, runtime_snap in zip(
        dapr.snapshots, engine.snapshots, runtime.snapshots, strict=True
    ):
        assert summaries(engine_snap) == summaries(dapr_snap)
        assert summaries(runtime_snap) == summaries(dapr_snap)
    check_cold_replays(target, runtime.reports)


@pytest.mark.parametrize("warm", [1, 0])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_evicted_instances_behave_as_warm_ones(scenario: Scenario, warm: int) -> None:
    # Instances beyond the warm limit drop their executor and replay their history when
    # their next event arrives; nothing of it shows. With 1 the multi-instance scenarios
    # evict; with 0 every instance replays at every event.
    warm_run, _ = on_wfkit_runtime(scenario)
    cold_run, target = on_wfkit_runtime(scenario, warm=warm)
    assert summaries(cold_run.reports) == summaries(warm_run.reports)
    for cold_snap, warm_snap in zip(cold_run.snapshots, warm_run.snapshots, strict=True):
        assert summaries(cold_snap) == summaries(warm_snap)
    check_cold_replays(target, cold_run.reports)
    if warm == 0 and len(target.history(ROOT)) > 4:  # more than one episode
        assert target.wfr._engine._warm.evictions > 0


# --------------------------------------------------------------------------- spot checks
def _root(scenario: Scenario) -> Report:
    return on_dapr(scenario).reports[ROOT]


def test_scenarios_exercise_what_they_claim() -> None:
    """A few expected values, so that agreeing on something wrong does not pass."""
    assert _root(Scenario("c", chain, 3)).result == [3, 6, 12]
    timed_out = _root(Scenario("t", approval, 1, steps=(Advance(2 * H),)))
    assert timed_out.result == "timed out"
    early = _root(
        Scenario(
            "e",
            early_events,
            before_start=(Raise("order", 1), Raise("ORDER", 2), Raise("payment", "paid")),
            steps=(Raise("oRdEr", 3),),
        )
    )
    assert early.result == [[1, 2, 3], "paid"]
    retried = _root(Scenario("r", retrying))
    assert retried.result[1] == 3
    retry_timers = [a for a in retried.actions if a.name == "activity_retry"]
    assert [a.fire_at - START for a in retry_timers[:4]] == [
        timedelta(seconds=s) for s in (10, 40, 100, 160)
    ]
    kept = _root(Scenario("k", counter, {"n": 0, "keep": True}, (Raise("note", "hello"),)))
    dropped = _root(Scenario("d", counter, {"n": 0, "keep": False}, (Raise("note", "hello"),)))
    assert (kept.result, dropped.result) == ([2, "hello"], [2, "lost"])
    played = on_dapr(Scenario("p", parent))
    assert set(played.reports) == {ROOT, "root:0001", "root:0002", "named-child", "root:0004"}
    terminated = on_dapr(Scenario("x", parent_of_waiter, steps=(Terminate({"by": "op"}),)))
    assert {r.status for r in terminated.reports.values()} == {"TERMINATED"}


# --------------------------------------------------------------------------- deliberate differences
def test_non_serializable_result_fails_instead_of_hanging() -> None:
    """Deliberate difference: a workflow result that JSON cannot encode. Dapr's engine
    marks itself complete, then fails to encode the result and returns no action at all:
    the instance stays RUNNING forever. wfkit fails the instance with a clear error."""
    scenario = Scenario("set", returns_a_set)
    dapr = on_dapr(scenario).reports[ROOT]
    assert dapr.status == "RUNNING"
    assert dapr.failure is None
    runtime, _ = on_wfkit_runtime(scenario)
    mine = runtime.reports[ROOT]
    assert mine.status == "FAILED"
    assert mine.failure is not None
    assert mine.failure.error_type == "SerializationError"
    assert "not JSON-serializable" in mine.failure.message
    assert mine.actions == dapr.actions


def test_yielding_none_fails_instead_of_hanging() -> None:
    """Deliberate difference: ``yield None`` as the first yield leaves Dapr's instance
    RUNNING forever (it waits on no task); wfkit fails it with a TypeError that says what
    to yield. A later ``yield None`` fails on both with a TypeError (messages differ)."""
    dapr = on_dapr(Scenario("none", yields_none_first)).reports[ROOT]
    assert (dapr.status, dapr.failure, dapr.actions) == ("RUNNING", None, [])
    runtime, _ = on_wfkit_runtime(Scenario("none", yields_none_first))
    mine = runtime.reports[ROOT]
    assert mine.status == "FAILED"
    assert mine.failure is not None and mine.failure.error_type == "TypeError"
    assert "yielded None, which is not a task" in mine.failure.message

    later = Scenario("none-later", yields_none_later)
    dapr = on_dapr(later).reports[ROOT]
    runtime, _ = on_wfkit_runtime(later)
    mine = runtime.reports[ROOT]
    assert dapr.failure == Failure(
        "TypeError", "The orchestrator generator yielded a non-Task object"
    )
    assert (mine.status, mine.failure and mine.failure.error_type) == ("FAILED", "TypeError")
    assert mine.actions == dapr.actions


def test_falsy_event_data_and_terminate_output_are_kept() -> None:
    """Deliberate difference: Dapr's client drops falsy payloads (``if data else None``),
    so events raised with 0, "" or False arrive as None and a terminate output of 0 is
    lost. wfkit delivers and stores them as given."""
    events = Scenario(
        "falsy", three_events, steps=(Raise("x", 0), Raise("x", ""), Raise("x", False))
    )
    assert on_dapr(events).reports[ROOT].result == [None, None, None]
    runtime, _ = on_wfkit_runtime(events)
    assert runtime.reports[ROOT].result == [0, "", False]

    terminate = Scenario("falsy-terminate", three_events, steps=(Terminate(0),))
    dapr = on_dapr(terminate).reports[ROOT]
    assert (dapr.status, dapr.result) == ("TERMINATED", None)
    runtime, _ = on_wfkit_runtime(terminate)
    assert (runtime.reports[ROOT].status, runtime.reports[ROOT].result) == ("TERMINATED", 0)


def test_resume_of_a_running_instance_changes_nothing() -> None:
    """Deliberate difference: resuming an instance that is not suspended makes Dapr's
    engine fail the instance (it has no handler for a resume event when not suspended);
    in wfkit it changes nothing and the instance completes normally."""
    scenario = Scenario("resume", two_events, steps=(Resume(), Raise("a", 1), Raise("b", 2)))
    dapr = on_dapr(scenario).reports[ROOT]
    assert dapr.status == "FAILED"
    assert dapr.failure == Failure(
        "WorkflowStateError", "Don't know how to handle event of type 'executionResumed'"
    )
    runtime, _ = on_wfkit_runtime(scenario)
    mine = runtime.reports[ROOT]
    assert (mine.status, mine.result) == ("COMPLETED", [1, 2, 2])


@pytest.fixture
def time_zone():
    """Switch the process's local time zone (POSIX TZ strings need no zone database)."""
    saved = os.environ.get("TZ")

    def switch(tz: str) -> None:
        os.environ["TZ"] = tz
        time.tzset()

    yield switch
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_deterministic_random_ignores_the_time_zone(time_zone) -> None:
    """Deliberate difference: Dapr seeds ``ctx.random()`` with ``datetime.timestamp()`` of
    a naive UTC time, which Python reads as local time, so the values depend on the
    machine's time zone. wfkit reads it as UTC everywhere; in a UTC zone both agree."""
    scenario = Scenario("random", random_numbers)
    time_zone("UTC0")
    dapr_utc = on_dapr(scenario).reports[ROOT].result
    wfkit_utc = on_wfkit_runtime(scenario)[0].reports[ROOT].result
    time_zone("EST5EDT")
    dapr_est = on_dapr(scenario).reports[ROOT].result
    wfkit_est = on_wfkit_runtime(scenario)[0].reports[ROOT].result
    assert dapr_utc == wfkit_utc
    assert dapr_est != dapr_utc
    assert wfkit_est == wfkit_utc


def test_is_replaying_reflects_the_warm_path() -> None:
    """Known difference by design: wfkit keeps a running instance's generator alive, so
    code between two yields runs once, live, and sees ``is_replaying`` False; Dapr's
    engine replays the whole history at every episode, so values computed before the
    newest event were computed (again) while replaying. Code that only uses the flag to
    skip side effects on replay behaves the same on both; code that stores the flag in
    its result does not. A cold replay in wfkit (after a restart) sees True throughout."""
    scenario = Scenario("flags", replay_flags)
    assert on_dapr(scenario).reports[ROOT].result == [True, True, False]
    runtime, target = on_wfkit_runtime(scenario)
    assert runtime.reports[ROOT].result == [False, False, False]
    use(wfkit)
    replayed = cold_replay(ROOT, target.history(ROOT), target.wfr._registry.workflow)
    assert replayed.result == [True, True, True]


CALLS: list[Any] = []


def recorded_double(ctx, n):
    CALLS.append(n)
    return n * 2


def two_steps(ctx, n):
    a = yield ctx.call_activity(recorded_double, input=n)
    b = yield ctx.call_activity(recorded_double, input=a)
    return [a, b]


def test_decisions_recorded_after_a_suspension_are_not_issued_again() -> None:
    """Difference found by this suite (Dapr's flaw): when a suspension arrives in the
    same episode as the start, that episode's decisions are recorded after the suspend
    event. Dapr's engine buffers those records on every replay while the instance is
    suspended, so it issues the same activity again at each episode, and after the resume
    the duplicate record fails the instance with NonDeterminismError. wfkit confirms
    recorded decisions even while suspended: each activity runs once, also when the
    suspended instance is restored from its history after a restart, and it completes."""
    use(dapr_wf)
    sidecar = Sidecar(DaprEngine([two_steps], [recorded_double]), START)
    sidecar.schedule(two_steps, 3, instance_id=ROOT)
    sidecar.suspend(ROOT)
    sidecar.run_episode(ROOT)  # starts, schedules task 1, then is suspended
    sidecar.run_activity()
    sidecar.run_episode(ROOT)  # the result is buffered, and task 1 is issued again
    assert [a.task_id for a in sidecar.instances[ROOT].actions] == [1, 1]
    sidecar.run_activity()
    sidecar.resume(ROOT)
    sidecar.settle()
    dapr = sidecar.reports()[ROOT]
    assert dapr.status == "FAILED"
    assert dapr.failure is not None and dapr.failure.error_type == "NonDeterminismError"

    use(wfkit)
    CALLS.clear()
    store = MemoryStore()
    first = wfkit.WorkflowRuntime(clock=wfkit.VirtualClock(START, flow=False), store=store)
    first.register_workflow(two_steps)
    first.register_activity(recorded_double)
    client = wfkit.DaprWorkflowClient(first)
    client.schedule_new_workflow(two_steps, input=3, instance_id=ROOT)
    client.pause_workflow(ROOT)
    first.start()
    first.clock.advance(timedelta(0))
    first.shutdown()
    assert CALLS == [3]
    second = wfkit.WorkflowRuntime(clock=wfkit.VirtualClock(START, flow=False), store=store)
    second.register_workflow(two_steps)
    second.register_activity(recorded_double)
    client = wfkit.DaprWorkflowClient(second)
    second.start()
    try:
        second.clock.advance(timedelta(0))
        state = client.get_workflow_state(ROOT)
        assert state is not None and state.runtime_status == wfkit.WorkflowStatus.SUSPENDED
        client.resume_workflow(ROOT)
        state = client.wait_for_workflow_completion(ROOT, timeout_in_seconds=10)
    finally:
        second.shutdown()
    assert state is not None and state.runtime_status == wfkit.WorkflowStatus.COMPLETED
    assert state.serialized_output == "[6, 12]"
    assert CALLS == [3, 6]


def test_code_stops_at_termination() -> None:
    """Difference found by this suite (Dapr's flaw): when an event follows a termination
    in the same episode (an activity result that arrives with it), Dapr's engine resumes
    the terminated instance's code and returns the actions it takes next along with the
    termination. wfkit stops the code at the termination: no action follows it."""
    reports = {}
    for engine in (DaprEngine(WORKFLOWS, ACTIVITIES), WfkitEngine(WORKFLOWS, ACTIVITIES)):
        use(engine.module)
        sidecar = Sidecar(engine, START)
        sidecar.schedule(chain, 3, instance_id=ROOT)
        sidecar.run_episode(ROOT)  # schedules task 1
        sidecar.terminate(ROOT, "stop")
        sidecar.run_activity()  # its result arrives after the termination
        sidecar.run_episode(ROOT)
        reports[engine.name] = sidecar.reports()[ROOT]
    dapr, mine = reports["dapr"], reports["wfkit"]
    assert (dapr.status, dapr.result) == (mine.status, mine.result) == ("TERMINATED", "stop")
    assert [(a.task_id, a.name, a.input) for a in dapr.actions] == [
        (1, "double", 3),
        (3, "double", 6),
    ]
    assert [(a.task_id, a.name, a.input) for a in mine.actions] == [(1, "double", 3)]
