"""wfkit.testing: the pytest plugin's fixtures, run in a pytest of their own (pytester) on
a user's test file, and the helpers used directly."""

from __future__ import annotations

import importlib.metadata
import tomllib
from datetime import timedelta
from pathlib import Path

# pytester's in-process runs forget the modules they import, and a native extension
# cannot be imported twice in one process: the runtime's are imported here, once
import duckdb  # noqa: F401
import pandas  # noqa: F401
import pytest

import wfkit as wf
from wfkit import timetravel
from wfkit.store import MemoryStore, StoredEvent
from wfkit.store.contract import checks_for
from wfkit.testing import (
    START,
    ReplayResult,
    StoreContractError,
    advance,
    assert_histories_replay,
    assert_replays,
    check_store,
    fire_next_timer,
    replay_problems,
    run_workflow,
    runtime_for_tests,
    save_history,
    store_contract_checks,
    stub_activity,
)

pytest_plugins = ["pytester"]

PLUGIN = "wfkit.testing.plugin"

USER_TESTS = """
from datetime import timedelta

import wfkit as wf
from wfkit.testing import START, advance, assert_replays, run_workflow


def double(ctx, x):
    return 2 * x


def pipeline(ctx, n):
    doubled = yield ctx.call_activity(double, input=n)
    yield ctx.create_timer(timedelta(days=3))
    return doubled + 1


def test_runs_to_the_end(wfr):
    wfr.register_activity(double)
    state = run_workflow(wfr, pipeline, 5)
    assert state.runtime_status.name == "COMPLETED"
    assert state.serialized_output == "11"
    assert wfr.clock.now() == START + timedelta(days=3)


def test_steps_the_clock(wfr, wfkit_client):
    wfr.register_activity(double)
    wfr.register_workflow(pipeline)
    iid = wfkit_client.schedule_new_workflow(pipeline, input=1)
    advance(wfr, timedelta(days=2))
    assert wfkit_client.get_workflow_state(iid).runtime_status.name == "RUNNING"
    advance(wfr, timedelta(days=1))
    assert wfkit_client.get_workflow_state(iid).serialized_output == "3"


def test_replays_its_history(wfr):
    wfr.register_activity(double)
    run_workflow(wfr, pipeline, 2)
    assert assert_replays(wfr, pipeline) == 1


def test_a_wrong_workflow_fails(wfr):
    wfr.register_activity(double)
    state = run_workflow(wfr, pipeline, 5)
    assert state.serialized_output == "12"
"""


def _plugin_args() -> list[str]:
    """``-p`` the plugin unless the installed wfkit registers it already."""
    installed = {e.value for e in importlib.metadata.entry_points(group="pytest11")}
    return [] if PLUGIN in installed else ["-p", PLUGIN]


def test_the_entry_point_names_the_plugin_module():
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["pytest11"] == {"wfkit": PLUGIN}
    module = importlib.import_module(PLUGIN)
    assert callable(module.wfr) and callable(module.wfkit_client)


def test_a_user_test_file_passes_and_fails_as_its_workflow_does(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*_plugin_args(), "-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_a_wrong_workflow_fails*", "*assert '11' == '12'*"])


def test_the_runtime_is_shut_down_after_the_test(pytester):
    pytester.makepyfile(
        test_kept="""
        kept = []

        def test_one(wfr):
            kept.append(wfr)
            assert wfr.is_running

        def test_two():
            assert not kept[0].is_running
        """
    )
    result = pytester.runpytest(*_plugin_args(), "-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


WFKITS_OWN_TESTS = """
def test_uses_the_plugins_runtime(wfr, client):
    assert wfr.is_running and client is not None
"""


@pytest.mark.parametrize("entry_point", [False, True], ids=["plugin-by-conftest", "installed"])
def test_wfkits_own_conftest_loads_the_plugin_once(pytester, entry_point):
    """wfkit's tests/conftest.py registers the plugin unless an installed wfkit's entry
    point has (naming it in ``pytest_plugins`` would then fail as a second registration)."""
    if entry_point:
        dist = pytester.mkdir("site") / "wfkit_entry_point-0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: wfkit-entry-point\n")
        (dist / "entry_points.txt").write_text(f"[pytest11]\nwfkit = {PLUGIN}\n")
        pytester.syspathinsert(dist.parent)
    pytester.makeconftest((Path(__file__).parents[1] / "conftest.py").read_text())
    pytester.makepyfile(test_own=WFKITS_OWN_TESTS)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


# --------------------------------------------------------------------------- the helpers
def greet(ctx, name):
    return f"hello {name}"


def two_steps(ctx, name):
    first = yield ctx.call_activity(greet, input=name)
    second = yield ctx.call_activity(greet, input=first)
    return second


@wf.alternate_name("two_steps")
def two_steps_reordered(ctx, name):
    yield ctx.create_timer(timedelta(seconds=1))  # a new step before the recorded ones
    first = yield ctx.call_activity(greet, input=name)
    return first


@wf.alternate_name("two_steps")
def two_steps_renamed_locals(ctx, who):
    greeting = yield ctx.call_activity(greet, input=who)
    return (yield ctx.call_activity(greet, input=greeting))


def waits(ctx):
    return (yield ctx.wait_for_external_event("go"))


@pytest.fixture
def runtime():
    with runtime_for_tests() as rt:
        rt.register_activity(greet)
        yield rt


def test_run_workflow_registers_the_workflow_and_returns_the_final_state(runtime):
    state = run_workflow(runtime, two_steps, "ada")
    assert "two_steps" in runtime.workflows
    assert state.runtime_status is wf.WorkflowStatus.COMPLETED
    assert state.serialized_output == '"hello hello ada"'
    assert runtime.clock.now() == START  # nothing waited on time


def test_a_failed_workflow_is_returned_too(runtime):
    def broken(ctx):
        raise ValueError("no")

    state = run_workflow(runtime, broken)
    assert state.runtime_status is wf.WorkflowStatus.FAILED
    assert state.failure_details.error_type == "ValueError"


def test_run_workflow_says_what_an_unfinished_instance_waits_for(runtime):
    with pytest.raises(TimeoutError, match=r"'waits'.*RUNNING.*raise_workflow_event"):
        run_workflow(runtime, waits, timeout=0.2)


def test_fire_next_timer_moves_to_the_timer_and_fires_it(runtime):
    def sleeper(ctx):
        yield ctx.create_timer(timedelta(hours=5))
        return "woke"

    runtime.register_workflow(sleeper)
    client = wf.DaprWorkflowClient(runtime)
    iid = client.schedule_new_workflow(sleeper)
    assert advance(runtime, 60) == START + timedelta(minutes=1)
    assert fire_next_timer(runtime) == START + timedelta(hours=5)
    assert client.get_workflow_state(iid).serialized_output == '"woke"'
    assert fire_next_timer(runtime) is None


def test_replays_pass_for_the_same_calls_and_fail_for_new_ones(runtime):
    run_workflow(runtime, two_steps, "ada")
    run_workflow(runtime, two_steps, "bob")
    assert assert_replays(runtime, two_steps) == 2
    assert assert_replays(runtime.store, two_steps_renamed_locals) == 2
    problems = replay_problems(runtime, two_steps_reordered)
    assert len(problems) == 2
    assert "records call_activity('greet')" in problems[0].message
    assert "create_timer" in problems[0].message
    with pytest.raises(AssertionError, match="2 of 2 recorded histories of workflow 'two_steps'"):
        assert_replays(runtime, two_steps_reordered)


def test_replays_of_one_history_given_as_events(runtime):
    state = run_workflow(runtime, two_steps, "ada")
    events = [s.event for s in runtime.store.history(state.instance_id)]
    assert replay_problems(events, two_steps) == []
    assert assert_replays(events, two_steps) == 1
    with pytest.raises(AssertionError, match="history"):
        assert_replays(events, two_steps_reordered)


def test_replays_need_a_recorded_instance(runtime):
    with pytest.raises(AssertionError, match="no recorded instance of workflow 'two_steps'"):
        assert_replays(runtime, two_steps)


def test_a_stubbed_activity_runs_in_place_of_the_registered_one(runtime):
    stub_activity(runtime, greet, "stubbed")
    assert run_workflow(runtime, two_steps, "ada").serialized_output == '"stubbed"'
    calls = []

    def shout(ctx, name):
        calls.append(name)
        return name.upper()

    stub_activity(runtime, "greet", shout)
    assert run_workflow(runtime, two_steps, "ada").serialized_output == '"ADA"'
    assert calls == ["ada", "ADA"]


class LosesTheLastEvent(MemoryStore):
    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> list[StoredEvent]:
        return super().history(instance_id, start=start, stop=stop)[:-1]


def test_the_store_contract_checks_a_store_of_ones_own():
    assert store_contract_checks(MemoryStore) == checks_for(MemoryStore)
    check_store(MemoryStore)
    with pytest.raises(StoreContractError, match="the events read back"):
        check_store(LosesTheLastEvent)


def test_saved_histories_are_checked_as_time_travel_checks_them(runtime, tmp_path):
    state = run_workflow(runtime, two_steps, "ada")
    save_history(runtime, state.instance_id, tmp_path / "two_steps.json")
    [result] = assert_histories_replay(tmp_path, workflows=[two_steps_renamed_locals])
    assert isinstance(result, ReplayResult) and result.ok
    with pytest.raises(AssertionError, match="1 of 1 recorded histories do not replay") as failed:
        assert_histories_replay(tmp_path, workflows=[two_steps_reordered])
    assert "create_timer" in str(failed.value)
    [same] = timetravel.assert_histories_replay(tmp_path, workflows=[two_steps])
    assert isinstance(same, ReplayResult) and same.ok
    assert timetravel.save_history is save_history
