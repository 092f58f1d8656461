"""Property-based conformance: random orchestrators, random delivery orders.

Orchestrators come from a small grammar (activity calls, fan-outs, ``when_any`` races,
timers, event waits with and without timeouts, child workflows, try/except around
failing activities and children, retries, custom status, continue-as-new, uncaught
failures), interpreted by one workflow function that both engines run unchanged.

* Dapr's engine and wfkit's executor, each behind the sidecar driver, are driven through
  the same randomly chosen schedule: which ready instance runs next, which pending
  activity completes next, when each scripted event is raised, when the next timer
  fires. They must agree on every instance's status, result, failure, custom status and
  actions. Every history wfkit's executor produced must replay cold to the same end.
* wfkit's public runtime (in-memory store, for speed; the scenario suite uses the
  default store) runs generated programs (without children, whose interleaving with the
  parent's activities is up to thread timing) against the driver with Dapr's engine,
  under a random script of events, clock moves, suspension and termination.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pytest

pytest.importorskip(
    "dapr.ext.workflow",
    reason="the conformance suite needs Dapr's engine: pip install 'dapr[workflow]==1.19.0' "
    "(the dev extra pins it)",
)

from activities import ATTEMPTS, boom, double, flaky
from conformance_script import (
    ROOT,
    Advance,
    Raise,
    Resume,
    Scenario,
    Suspend,
    Terminate,
    play,
    summaries,
)
from dapr_driver import DaprEngine, Report, Sidecar, WfkitEngine
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from wfkit_side import RuntimeTarget, assert_cold_replay_matches, cold_replay

import wfkit

#: The workflow API ``program`` uses (Dapr's module or wfkit's), set before each run.
wf: Any = wfkit

START = datetime(2024, 6, 1, 12, 0, 0)
#: Multiplies the number of examples (e.g. 20 for a longer hunt); 1 keeps the suite fast.
SCALE = int(os.environ.get("WFKIT_PROPERTY_SCALE", "1"))


# --------------------------------------------------------------------------- the interpreter
def _branch(ctx, branch):
    op = branch[0]
    if op == "act":
        return ctx.call_activity(double, input=branch[1])
    if op == "boom":
        return ctx.call_activity(boom, input=branch[1])
    if op == "timer":
        return ctx.create_timer(timedelta(seconds=branch[1]))
    if op == "wait":
        return ctx.wait_for_external_event(branch[1])
    if op == "child":
        return ctx.call_child_workflow(program, input={"p": branch[1], "g": 1})
    raise AssertionError(branch)


def program(ctx, spec):
    """Runs the statements of ``spec["p"]``; returns what each produced."""
    prog, generation = spec["p"], spec["g"]
    out: list[Any] = []
    for index, stmt in enumerate(prog):
        op = stmt[0]
        if op == "act":
            out.append((yield ctx.call_activity(double, input=stmt[1])))
        elif op == "fan":
            out.append((yield wf.when_all([ctx.call_activity(double, input=v) for v in stmt[1]])))
        elif op == "timer":
            yield ctx.create_timer(timedelta(seconds=stmt[1]))
            out.append(ctx.current_utc_datetime.isoformat())
        elif op == "wait":
            timeout = None if stmt[2] is None else timedelta(seconds=stmt[2])
            try:
                out.append((yield ctx.wait_for_external_event(stmt[1], timeout=timeout)))
            except TimeoutError as exc:
                out.append(["timeout", str(exc)])
        elif op == "any":
            tasks = [_branch(ctx, b) for b in stmt[1]]
            winner = yield wf.when_any(tasks)
            position = next(i for i, t in enumerate(tasks) if t is winner)
            out.append([position, None if winner.is_failed else winner.get_result()])
        elif op == "child":
            out.append((yield ctx.call_child_workflow(program, input={"p": stmt[1], "g": 1})))
        elif op == "try":
            try:
                if stmt[1] == "act":
                    yield ctx.call_activity(boom, input=f"boom {index}")
                else:
                    failing = {"p": [["act", 1], ["raise", f"child {index}"]], "g": 1}
                    yield ctx.call_child_workflow(program, input=failing)
                out.append("no failure")
            except wf.TaskFailedError as exc:
                out.append([str(exc), exc.details.error_type, exc.details.message])
        elif op == "retry":
            policy = wf.RetryPolicy(
                first_retry_interval=timedelta(seconds=stmt[3]),
                max_number_of_attempts=stmt[2],
                backoff_coefficient=2.0,
                max_retry_interval=timedelta(seconds=50),
            )
            spec_ = {"key": f"{generation}.{index}", "fails": stmt[1]}
            try:
                out.append((yield ctx.call_activity(flaky, input=spec_, retry_policy=policy)))
            except wf.TaskFailedError as exc:
                out.append(str(exc))
        elif op == "status":
            ctx.set_custom_status(stmt[1])
        elif op == "guid":
            out.append(str(ctx.new_guid()))
        elif op == "raise":
            raise ValueError(stmt[1])
        elif op == "fail":
            yield ctx.call_activity(boom, input=stmt[1])
        elif op == "can":
            if generation == 0:
                carried = {"p": prog, "g": 1, "o": out}
                ctx.continue_as_new(carried, save_events=stmt[1])
                return None
        else:
            raise AssertionError(stmt)
    return [spec.get("o"), out]


WORKFLOWS = [program]
ACTIVITIES = [double, boom, flaky]


def use(module: Any) -> None:
    global wf
    wf = module
    ATTEMPTS.clear()


# --------------------------------------------------------------------------- the grammar
small = st.integers(1, 9)
seconds = st.sampled_from([1, 30, 3600])
event_names = st.sampled_from(["a", "b"])

act = st.tuples(st.just("act"), small).map(list)
fan = st.tuples(st.just("fan"), st.lists(small, max_size=3)).map(list)
timer = st.tuples(st.just("timer"), seconds).map(list)
wait = st.tuples(st.just("wait"), event_names, st.sampled_from([None, 60, 7200])).map(list)
try_ = st.tuples(st.just("try"), st.sampled_from(["act", "child"])).map(list)
retry = st.tuples(st.just("retry"), st.integers(0, 3), st.integers(1, 3), st.sampled_from([1, 20]))
status = st.tuples(st.just("status"), st.sampled_from(["one", "two"])).map(list)
guid = st.just(["guid"])


def statements(children: bool) -> st.SearchStrategy[list[Any]]:
    leaf = st.one_of(act, timer, status, guid, st.just(["try", "act"]))
    child_program = st.lists(leaf, max_size=2)
    branch_options = [
        st.tuples(st.just("act"), small),
        st.tuples(st.just("boom"), st.just("branch failed")),
        st.tuples(st.just("timer"), seconds),
        st.tuples(st.just("wait"), event_names),
    ]
    options = [act, fan, timer, wait, retry.map(list), status, guid, st.just(["try", "act"])]
    if children:
        branch_options.append(st.tuples(st.just("child"), child_program))
        options += [try_, st.tuples(st.just("child"), child_program).map(list)]
    branches = st.lists(st.one_of(branch_options).map(list), min_size=1, max_size=3)
    options.append(st.tuples(st.just("any"), branches).map(list))
    return st.one_of(options)


ending = st.one_of(
    st.just([]),
    st.just([["raise", "the end"]]),
    st.just([["fail", "last step"]]),
    st.tuples(st.just("can"), st.booleans()).map(lambda t: [list(t)]),
)


def programs(children: bool) -> st.SearchStrategy[dict[str, Any]]:
    body = st.lists(statements(children), min_size=1, max_size=4)
    return st.tuples(body, ending).map(lambda t: {"p": t[0] + t[1], "g": 0})


delivery_names = st.sampled_from(["a", "A", "b", "B", "c"])
deliveries = st.lists(st.tuples(delivery_names, small), max_size=4)


@st.composite
def delivery_plans(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Events for the root, in order, maybe with a suspension (and its resume) and a
    termination among them."""
    plan: list[tuple[Any, ...]] = [("event", ROOT, n, d) for n, d in draw(deliveries)]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(plan)))
        plan.insert(at, ("suspend", ROOT))
        plan.insert(draw(st.integers(at + 1, len(plan))), ("resume", ROOT))
    if draw(st.integers(0, 3)) == 0:
        output = draw(st.sampled_from([None, "stop", {"why": 1}]))
        plan.insert(draw(st.integers(0, len(plan))), ("terminate", ROOT, output))
    return plan


# --------------------------------------------------------------------------- properties
def _picker(choices: list[int]):
    position = 0

    def pick(n: int) -> int:
        nonlocal position
        if position >= len(choices):
            return 0
        position += 1
        return choices[position - 1] % n

    return pick


def _explore(engine: Any, spec: dict[str, Any], plan: list, choices: list[int]) -> Sidecar:
    use(engine.module)
    sidecar = Sidecar(engine, START)
    sidecar.schedule(program, spec, instance_id=ROOT)
    sidecar.explore(_picker(choices), plan)
    return sidecar


def _check_cold_replays(sidecar: Sidecar, reports: dict[str, Report]) -> None:
    use(wfkit)
    resolve = sidecar.engine.registry.workflow
    for instance_id, inst in sidecar.instances.items():
        generations = inst.engine.generations
        for history in generations[:-1]:
            replayed = cold_replay(instance_id, history, resolve)
            assert replayed.status == "CONTINUED_AS_NEW", (instance_id, replayed)
        if generations:
            assert_cold_replay_matches(instance_id, generations[-1], resolve, reports[instance_id])


@settings(max_examples=80 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=programs(children=True),
    plan=delivery_plans(),
    choices=st.lists(st.integers(0, 2**16), max_size=60),
)
def test_engines_agree_on_random_schedules(spec, plan, choices) -> None:
    note(f"spec={spec!r}\nplan={plan!r}\nchoices={choices!r}")
    dapr = _explore(DaprEngine(WORKFLOWS, ACTIVITIES), spec, plan, choices)
    mine = _explore(WfkitEngine(WORKFLOWS, ACTIVITIES), spec, plan, choices)
    assert summaries(mine.reports()) == summaries(dapr.reports())
    assert mine.now == dapr.now
    _check_cold_replays(mine, mine.reports())


@st.composite
def scripts(draw: st.DrawFn) -> list[Any]:
    """Steps between settles: events and clock moves, maybe a suspension (and its
    resume) and a termination among them."""
    steps: list[Any] = draw(
        st.lists(
            st.one_of(
                st.tuples(delivery_names, small).map(lambda t: Raise(*t)),
                st.sampled_from([1, 45, 5400]).map(lambda s: Advance(timedelta(seconds=s))),
            ),
            max_size=5,
        )
    )
    if draw(st.booleans()):
        at = draw(st.integers(0, len(steps)))
        steps.insert(at, Suspend())
        steps.insert(draw(st.integers(at + 1, len(steps))), Resume())
    if draw(st.integers(0, 3)) == 0:
        output = draw(st.sampled_from([None, "stop", {"why": 1}]))
        steps.insert(draw(st.integers(0, len(steps))), Terminate(output))
    return steps


@settings(max_examples=40 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=programs(children=False), early=deliveries, steps=scripts())
def test_runtime_agrees_on_generated_programs(spec, early, steps) -> None:
    note(f"spec={spec!r}\nearly={early!r}\nsteps={steps!r}")
    scenario = Scenario(
        "generated",
        program,
        spec,
        before_start=tuple(Raise(name, data) for name, data in early),
        steps=tuple(steps),
    )
    use(DaprEngine.module)
    dapr = play(Sidecar(DaprEngine(WORKFLOWS, ACTIVITIES), START), scenario)
    use(wfkit)
    target = RuntimeTarget(WORKFLOWS, ACTIVITIES, START, store="memory")
    try:
        mine = play(target, scenario)
    finally:
        target.close()
    assert summaries(mine.reports) == summaries(dapr.reports)
    for instance_id, report in mine.reports.items():
        history = target.history(instance_id)
        assert_cold_replay_matches(instance_id, history, target.wfr._registry.workflow, report)
