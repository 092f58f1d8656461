"""Testing workflows with pytest: fixtures and helpers, shipped with wfkit.

Installing wfkit registers a pytest plugin (the ``pytest11`` entry point
``wfkit.testing.plugin``), so these fixtures need no import:

* ``wfkit_runtime``: a started :class:`~wfkit.WorkflowRuntime` with a store of its own in
  memory (DuckDB) and a virtual clock that stands still (``flow=False``) from
  :data:`START`; shut down after the test.
* ``wfkit_client``: a :class:`~wfkit.DaprWorkflowClient` of that runtime.

The helpers work with any runtime, inside pytest or not::

    from wfkit.testing import advance, assert_replays, run_workflow

    def test_order(wfkit_runtime):
        wfkit_runtime.register_activity(charge)
        state = run_workflow(wfkit_runtime, order_workflow, {"amount": 5})
        assert state.runtime_status.name == "COMPLETED"
        assert_replays(wfkit_runtime, order_workflow)   # the code replays its histories

* :func:`run_workflow` runs one instance to its end and returns its final state; while it
  waits, the clock jumps to each timer the workflow waits on (auto-skip).
* :func:`advance` and :func:`fire_next_timer` move the clock by hand, firing the timers
  due on the way, for a test that checks what an instance does in between.
* :func:`assert_replays` replays the recorded histories of a workflow's instances against
  its (edited) code and fails at the first change of behaviour a replay cannot take.
  Histories saved to files are checked with
  :func:`wfkit.timetravel.assert_histories_replay`.
"""

from __future__ import annotations

from wfkit.testing._replays import ReplayProblem, assert_replays, replay_problems
from wfkit.testing._runs import START, advance, fire_next_timer, run_workflow, runtime_for_tests

__all__ = [
    "START",
    "ReplayProblem",
    "advance",
    "assert_replays",
    "fire_next_timer",
    "replay_problems",
    "run_workflow",
    "runtime_for_tests",
]
