"""The conformance scenarios on a third target: Dapr's real engine (its SDK connected to
the durabletask-go sidecar), beside Dapr's executor driven offline and wfkit.

Each scenario runs on a fresh sidecar (its own SQLite file, so fixed instance ids never
meet) with a fresh SDK runtime registered with the suite's functions, and must report what
Dapr's executor reports offline: statuses, results, failures, custom statuses and every
action, with times counted from the instance's first episode (for continue-as-new, whose
history the engine restarts, all but the actions). The engine's clock is the wall clock:
a scenario that waits half a minute to a week, or moves time by hand, is played with its
durations multiplied by a factor (``SHORTENED``; the workflows take every duration from
``wait``), against Dapr's executor offline at the same factor. One scenario needs an event
delivered before the first episode and stays offline (``OFFLINE_ONLY`` says why). The
deliberate differences are asserted on the real engine too: it behaves as Dapr's executor
offline.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

pytest.importorskip("dapr.ext.workflow")

from conformance_script import ROOT, Advance, Raise, Resume, Scenario, Terminate
from dapr_driver import Failure, Report
from real_engine_side import RealEngineTarget, relative
from test_conformance import (
    ACTIVITIES,
    SCENARIOS,
    START,
    WORKFLOWS,
    counter,
    on_dapr,
    play,
    replay_flags,
    returns_a_set,
    three_events,
    time_scaled,
    two_events,
    yields_none_first,
    yields_none_later,
)

from wfkit.interop.sidecar import Sidecar

#: The scenarios the sidecar cannot play, and why: it accepts a new instance only once a
#: worker is connected, so an event cannot be there before the first episode.
OFFLINE_ONLY = {
    # the activity then wins the race the event wins offline
    "when-any-activity-timer-event": "an event delivered before the start",
    # the event then reaches the generation after the one that drops it
    "continue-as-new-drop-events": "an event delivered before the start",
}
#: Scenarios that wait for timers of half a minute to a week (or move time by hand), with
#: the factor their durations are multiplied by on the wall clock (``wait`` in
#: test_conformance): their longest wait becomes a few seconds.
SHORTENED = {
    "when-any-event-first": 1 / 28_800,  # 24 hours -> 3 s (the event comes at 0.06 s)
    "when-any-timer-first": 1 / 2_400,  # 1 hour -> 1.5 s, moved 2 hours -> 3 s
    "events-before-wait-same-name-other-case": 1 / 100,  # 5 minutes -> 3 s
    "wait-with-timeout": 1 / 2_400,  # 1 and 2 hours -> 1.5 and 3 s
    "wait-with-timeout-event-in-time": 1 / 2_400,
    "wait-with-timeout-uncaught": 1 / 2_400,
    "retry-backoff-max-interval-timeout": 1 / 10,  # retries over 3 minutes -> 18 s
    "child-retry": 1 / 30,  # 1 minute -> 2 s
    "custom-status": 1 / 30,  # 1 minute -> 2 s
    "new-guid": 1 / 15,  # 30 seconds -> 2 s
    "timers": 1 / 200_000,  # 7 days -> 3 s
}
PLAYED = [s for s in SCENARIOS if s.id not in OFFLINE_ONLY]


def shortened(scenario: Scenario) -> Scenario:
    """``scenario`` with its hand-moved time multiplied by its factor (1 if none)."""
    factor = SHORTENED.get(scenario.id, 1.0)
    steps = tuple(
        Advance(s.delta * factor) if isinstance(s, Advance) else s for s in scenario.steps
    )
    return replace(scenario, steps=steps)


@pytest.fixture
def sidecar(fresh_sidecar: Sidecar) -> Sidecar:
    """A fresh engine per scenario: the scenarios use fixed instance ids."""
    return fresh_sidecar


def on_real_engine(scenario: Scenario, sidecar: Sidecar) -> tuple[dict[str, Report], list]:
    target = RealEngineTarget(WORKFLOWS, ACTIVITIES, sidecar)
    try:
        played = play(target, scenario)
        starts = {iid: target.first_episode(iid) for iid in played.reports}
    finally:
        target.close()
    reports = {iid: relative(r, starts[iid]) for iid, r in played.reports.items()}
    snapshots = [{iid: relative(r, starts[iid]) for iid, r in s.items()} for s in played.snapshots]
    return reports, snapshots


def comparable(
    reports: dict[str, Report], start: datetime | None = START, *, actions: bool = True
) -> dict[str, dict]:
    """Summaries with timer times counted from ``start`` (None: they already are),
    without the actions when told."""
    out = {}
    for iid, report in sorted(reports.items()):
        summary = (report if start is None else relative(report, start)).summary()
        if not actions:
            del summary["actions"]
        out[iid] = summary
    return out


@pytest.mark.parametrize("scenario", PLAYED, ids=[s.id for s in PLAYED])
def test_same_behaviour_on_the_real_engine(scenario: Scenario, sidecar: Sidecar) -> None:
    with time_scaled(SHORTENED.get(scenario.id, 1.0)):
        offline = on_dapr(shortened(scenario))
        reports, snapshots = on_real_engine(shortened(scenario), sidecar)
    # the engine's history restarts at continue-as-new, and the event raised "before the
    # start" reaches a later generation there (the sidecar takes an instance only with a
    # worker connected): results agree, the newest generation's actions need not
    renews = scenario.workflow is counter
    real, expected = (
        comparable(reports, None, actions=not renews),
        comparable(offline.reports, actions=not renews),
    )
    # a child retried under its own id: the engine keeps the newest run's history, the
    # offline targets report every run's actions
    for iid in real.keys() & expected.keys():
        if "actions" in real[iid] and len(expected[iid]["actions"]) > len(real[iid]["actions"]):
            assert scenario.id == "child-retry", iid
            expected[iid]["actions"] = expected[iid]["actions"][-len(real[iid]["actions"]) :]
    assert real == expected
    for real_snap, offline_snap in zip(snapshots, offline.snapshots, strict=True):
        assert comparable(real_snap, None) == comparable(offline_snap)


def test_the_real_engine_plays_every_scenario_but_two() -> None:
    """Every scenario that waits or moves time by hand is shortened; two stay offline."""
    ids = {s.id for s in SCENARIOS}
    assert set(SHORTENED) <= ids and set(OFFLINE_ONLY) <= ids
    assert len(PLAYED) == len(SCENARIOS) - 2
    waiting = {s.id for s in SCENARIOS if any(isinstance(x, Advance) for x in s.steps)}
    assert waiting <= set(SHORTENED)


def test_shortening_keeps_the_logic() -> None:
    """A shortened scenario reports on Dapr's executor what the full one reports, with its
    timer and returned times multiplied by the factor."""
    scenario = next(s for s in SCENARIOS if s.id == "wait-with-timeout")
    factor = SHORTENED[scenario.id]
    full = comparable(on_dapr(scenario).reports)
    with time_scaled(factor):
        short = comparable(on_dapr(shortened(scenario)).reports)
    root = short[ROOT]
    assert root["status"] == full[ROOT]["status"] == "COMPLETED"
    assert root["result"][0][0] == full[ROOT]["result"][0][0] == "timeout"
    assert root["result"][1] == full[ROOT]["result"][1] == "late"
    assert root["result"][2] == pytest.approx(full[ROOT]["result"][2] * factor, abs=1e-3)
    fires = [a[3] for a in root["actions"] if a[0] == "timer"]
    full_fires = [a[3] for a in full[ROOT]["actions"] if a[0] == "timer"]
    assert fires == pytest.approx([f * factor for f in full_fires], abs=1e-3)


# --------------------------------------------------------------------------- deliberate differences
def root(scenario: Scenario, sidecar: Sidecar) -> Report:
    return on_real_engine(scenario, sidecar)[0][ROOT]


def test_non_serializable_result_leaves_the_instance_running(sidecar: Sidecar) -> None:
    """As offline: Dapr's engine never completes it (wfkit fails it with a clear error)."""
    real = root(Scenario("set", returns_a_set), sidecar)
    assert (real.status, real.failure) == ("RUNNING", None)


def test_yielding_none_first_leaves_the_instance_running(sidecar: Sidecar) -> None:
    real = root(Scenario("none", yields_none_first), sidecar)
    assert (real.status, real.failure, real.actions) == ("RUNNING", None, [])


def test_yielding_none_later_fails_with_a_type_error(sidecar: Sidecar) -> None:
    real = root(Scenario("none-later", yields_none_later), sidecar)
    assert real.failure == Failure(
        "TypeError", "The orchestrator generator yielded a non-Task object"
    )


def test_falsy_event_data_is_dropped(sidecar: Sidecar) -> None:
    """As offline: Dapr's client sends no payload for 0, "" or False (wfkit keeps them)."""
    events = Scenario(
        "falsy", three_events, steps=(Raise("x", 0), Raise("x", ""), Raise("x", False))
    )
    assert root(events, sidecar).result == [None, None, None]


def test_falsy_terminate_output_is_dropped(sidecar: Sidecar) -> None:
    terminate = Scenario("falsy-terminate", three_events, steps=(Terminate(0),))
    real = root(terminate, sidecar)
    assert (real.status, real.result) == ("TERMINATED", None)


def test_resume_of_a_running_instance_fails_it(sidecar: Sidecar) -> None:
    """As offline: the engine passes the resume to the SDK's executor, which has no
    handler for it when not suspended (in wfkit it changes nothing)."""
    scenario = Scenario("resume", two_events, steps=(Resume(), Raise("a", 1), Raise("b", 2)))
    real = root(scenario, sidecar)
    assert real.status == "FAILED"
    assert real.failure == Failure(
        "WorkflowStateError", "Don't know how to handle event of type 'executionResumed'"
    )


def test_is_replaying_as_offline(sidecar: Sidecar) -> None:
    """The real engine replays the whole history at each episode, as the executor offline."""
    real = root(Scenario("flags", replay_flags), sidecar)
    assert real.result == [True, True, False]
