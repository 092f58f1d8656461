"""The conformance scenarios on a third target: Dapr's real engine (its SDK connected to
the durabletask-go sidecar), beside Dapr's executor driven offline and wfkit.

Each scenario that moves no time by hand runs on a fresh sidecar (its own SQLite file, so
fixed instance ids never meet) with a fresh SDK runtime registered with the suite's
functions, and must report what Dapr's executor reports offline: statuses, results,
failures, custom statuses and every action, with timer fire times counted from the
instance's first episode (for continue-as-new, whose history the engine restarts, all
but the actions). The scenarios that move virtual time, wait for timers of half a minute
to days, or need an event delivered before the first episode stay with the offline
targets (``OFFLINE_ONLY`` says why). The deliberate differences that can be played in
real time are asserted on the real engine too: it behaves as Dapr's executor offline.
"""

from __future__ import annotations

from datetime import datetime

import pytest

pytest.importorskip("dapr.ext.workflow")

from conformance_script import ROOT, Raise, Resume, Scenario, Terminate
from dapr_driver import Failure, Report
from real_engine_side import RealEngineTarget, playable, relative
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
    two_events,
    yields_none_first,
    yields_none_later,
)

from wfkit.interop.sidecar import Sidecar

#: Scenarios that need what the wall clock or the sidecar cannot give, and why.
OFFLINE_ONLY = {
    # the sidecar accepts a new instance only once a worker is connected, so an event
    # cannot be there before the first episode: here the activity then wins the race
    "when-any-activity-timer-event": "an event delivered before the start",
    # workflows that wait for a timer of half a minute to a week before they end
    "events-before-wait-same-name-other-case": "5 minutes",
    "wait-with-timeout-uncaught": "2 hours",
    "retry-backoff-max-interval-timeout": "retries over 3 minutes",
    "child-retry": "1 minute",
    "continue-as-new-drop-events": "1 hour",
    "custom-status": "1 minute",
    "new-guid": "30 seconds",
    "timers": "7 days",
}
PLAYABLE = [s for s in SCENARIOS if playable(s) and s.id not in OFFLINE_ONLY]


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


@pytest.mark.parametrize("scenario", PLAYABLE, ids=[s.id for s in PLAYABLE])
def test_same_behaviour_on_the_real_engine(scenario: Scenario, sidecar: Sidecar) -> None:
    offline = on_dapr(scenario)
    reports, snapshots = on_real_engine(scenario, sidecar)
    # the engine's history restarts at continue-as-new, and the event raised "before the
    # start" reaches a later generation there (the sidecar takes an instance only with a
    # worker connected): results agree, the newest generation's actions need not
    renews = scenario.workflow is counter
    assert comparable(reports, None, actions=not renews) == comparable(
        offline.reports, actions=not renews
    )
    for real_snap, offline_snap in zip(snapshots, offline.snapshots, strict=True):
        assert comparable(real_snap, None) == comparable(offline_snap)


def test_the_real_engine_plays_most_scenarios() -> None:
    """What stays offline: the scenarios that move time by hand."""
    by_hand = {s.id for s in SCENARIOS if not playable(s)}
    assert by_hand == {
        "when-any-event-first",
        "when-any-timer-first",
        "wait-with-timeout",
        "wait-with-timeout-event-in-time",
    }
    assert {s.id for s in SCENARIOS} - {s.id for s in PLAYABLE} == by_hand | set(OFFLINE_ONLY)
    assert len(PLAYABLE) >= 12


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
