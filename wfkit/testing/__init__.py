"""Testing workflows with pytest: fixtures and helpers, shipped with wfkit.

Installing wfkit registers a pytest plugin (the ``pytest11`` entry point
``wfkit.testing.plugin``), so these fixtures need no import:

* ``wfr``: a started :class:`~wfkit.WorkflowRuntime` with a store of its own in memory
  (DuckDB) and a virtual clock that stands still (``flow=False``) at :data:`START`;
  shut down after the test.
* ``wfkit_client``: a :class:`~wfkit.DaprWorkflowClient` of that runtime.

Running workflows (the helpers work with any runtime, inside pytest or not)::

    from wfkit.testing import advance, assert_replays, run_workflow, stub_activity

    def test_order(wfr):
        wfr.register_activity(charge)
        stub_activity(wfr, ship, {"tracking": "T1"})    # for this test only
        state = run_workflow(wfr, order_workflow, {"amount": 5})
        assert state.runtime_status.name == "COMPLETED"
        assert_replays(wfr, order_workflow)   # the code replays its histories

* :func:`run_workflow` runs one instance to its end and returns its final state; while it
  waits, the clock jumps to each timer the workflow waits on (auto-skip).
* :func:`advance` and :func:`fire_next_timer` move the clock by hand, firing the timers
  due on the way, for a test that checks what an instance does in between.
* :func:`stub_activity` replaces an activity for one test (a function, or the value every
  call returns).
* :func:`runtime_for_tests` is the ``wfr`` fixture's runtime as a ``with`` block.

Replaying histories (a change of workflow code that running instances cannot take):

* :func:`assert_replays` replays the recorded histories of a workflow's instances (of a
  runtime, a store, or one list of events) against its edited code and fails at the first
  change of behaviour a replay cannot take; :func:`replay_problems` lists them.
* :func:`assert_histories_replay` does it for history files kept with the tests
  (:func:`save_history` writes one; a history exported from Dapr reads as well), quoting
  the recorded line of code and the current one; each checked file is a
  :class:`ReplayResult`. The same check is :func:`wfkit.timetravel.assert_histories_replay`::

    def test_saved_histories_still_replay():
        assert_histories_replay("tests/histories", workflows=[order_workflow, refund_workflow])

Executor tests, with no runtime: :mod:`wfkit.testing.history` builds a history event by
event (``task_scheduled``, ``task_completed``, ``timer_fired``, ``event_raised``, ...) and
:func:`run_executor` runs the code over it, returning its new decisions and outcome::

    from wfkit.testing import history as h, run_executor

    run = run_executor(
        order_workflow,
        past=[h.workflow_started(), h.execution_started(order_workflow, 5),
              h.task_scheduled(1, charge, 5)],
        new=[h.workflow_started(), h.task_completed(1, "receipt")],
    )
    assert [d.name for d in run.decisions] == ["ship"]

A store of your own (an implementation of :class:`wfkit.store.HistoryStore`) is checked
against the promises wfkit's stores keep, the store contract of
:mod:`wfkit.store.contract`: :func:`check_store` runs every check that applies to it, or
one test a check with :func:`store_contract_checks`::

    import pytest
    from wfkit.testing import check_store, store_contract_checks

    def test_my_store_keeps_the_store_contract():
        check_store(MyStore)                # a factory of new, empty stores

    @pytest.mark.parametrize("check", store_contract_checks(MyStore), ids=lambda c: c.__name__)
    def test_my_store_keeps(check):
        check(MyStore)                      # raises StoreContractError on a broken promise
"""

from __future__ import annotations

from wfkit.inspect._histories import save_history
from wfkit.inspect._replay_check import assert_histories_replay
from wfkit.inspect._replay_results import ReplayResult
from wfkit.store.contract import StoreContractError, check_store
from wfkit.store.contract import checks_for as store_contract_checks
from wfkit.testing import history
from wfkit.testing._executor import ExecutorRun, run_executor
from wfkit.testing._replays import ReplayProblem, assert_replays, replay_problems
from wfkit.testing._runs import (
    START,
    advance,
    fire_next_timer,
    run_workflow,
    runtime_for_tests,
    stub_activity,
)

__all__ = [
    "START",
    "ExecutorRun",
    "ReplayProblem",
    "ReplayResult",
    "StoreContractError",
    "advance",
    "assert_histories_replay",
    "assert_replays",
    "check_store",
    "fire_next_timer",
    "history",
    "replay_problems",
    "run_executor",
    "run_workflow",
    "runtime_for_tests",
    "save_history",
    "store_contract_checks",
    "stub_activity",
]
