"""Replays run workflow code too: restoring instances from the store at ``start()``,
rebuilding an instance evicted from memory, and replaying re-registered code all run as
ordinary turns, with the engine lock released and under the stuck-turn bound. A workflow
whose code loops when it is replayed leaves the runtime answering, can be terminated,
and lets ``shutdown()`` return. Each case runs in a fresh interpreter with a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, *, args: tuple[str, ...] = (), timeout: float = 60) -> str:
    """Run ``code`` in a fresh interpreter; its stdout (it must exit 0 within timeout)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


#: A workflow whose code loops without yielding once it is replayed past its first event.
APP = """
import sys, time, warnings
import wfkit as wf

warnings.simplefilter("always")
STORE = sys.argv[1] if len(sys.argv) > 1 else "memory"

def build(**options):
    wfr = wf.WorkflowRuntime(store=STORE, stuck_turn_seconds=0.3, shutdown_seconds=2, **options)

    @wfr.activity
    def quick(ctx, x):
        return x + 1

    @wfr.workflow
    def cold(ctx, _):
        yield ctx.wait_for_external_event("a")
        while ctx.is_replaying:  # never yields once replayed
            pass
        return (yield ctx.wait_for_external_event("b"))

    @wfr.workflow
    def fine(ctx, x):
        return (yield ctx.call_activity(quick, input=x))

    return wfr, cold, fine

def answers(wfr, fine, caught):
    \"\"\"Client calls answer while the replay loops; terminating ends the instance.\"\"\"
    client = wf.DaprWorkflowClient(wfr)
    deadline = time.monotonic() + 20
    while not any("without yielding" in str(w.message) for w in caught):
        assert time.monotonic() < deadline, "no stuck-turn warning"
        time.sleep(0.05)
    t = time.monotonic()
    print("state", client.get_workflow_state("c").runtime_status.name)
    client.schedule_new_workflow(fine, input=5, instance_id="good")
    state = client.wait_for_workflow_completion("good", timeout_in_seconds=10)
    print("good", state.serialized_output)
    client.terminate_workflow("c", output="stop")
    state = client.get_workflow_state("c")
    print("terminated", state.runtime_status.name, state.serialized_output)
    print("answered within", time.monotonic() - t < 10)
    t = time.monotonic()
    wfr.shutdown()
    print("shutdown within", time.monotonic() - t < 4)
    print("warned", sum("'c'" in str(w.message) for w in caught))
"""

ANSWERS = [
    "state RUNNING",
    "good 6",
    'terminated TERMINATED "stop"',
    "answered within True",
    "shutdown within True",
    "warned 1",
]


def check(out: str) -> None:
    for line in ANSWERS:
        assert line in out, out


def test_a_replay_at_recovery_that_loops_leaves_the_runtime_answering(tmp_path: Path) -> None:
    db = str(tmp_path / "wf.duckdb")
    run_python(
        APP
        + """
wfr, cold, fine = build()
wfr.start()
client = wf.DaprWorkflowClient(wfr)
client.schedule_new_workflow(cold, instance_id="c")
client.raise_workflow_event("c", "a")  # applied live: no loop
wfr.shutdown()
""",
        args=(db,),
    )
    out = run_python(
        APP
        + """
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wfr, cold, fine = build()
    wfr.start()  # recovery replays "c": its code loops
    answers(wfr, fine, caught)
""",
        args=(db,),
    )
    check(out)


def test_rebuilding_an_evicted_instance_that_loops_leaves_the_runtime_answering() -> None:
    out = run_python(
        APP
        + """
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wfr, cold, fine = build(history_cache_max_instances=1)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(cold, instance_id="c")
    client.raise_workflow_event("c", "a")
    for i in range(3):  # other instances run: "c" is evicted from memory
        client.schedule_new_workflow(cold, instance_id=f"o{i}")
        client.raise_workflow_event(f"o{i}", "a")
    print("evicted", wfr._engine._warm.evictions > 0)
    threading = __import__("threading")
    # its next event rebuilds it by a replay, which loops: the call is held, not applied
    threading.Thread(target=client.raise_workflow_event, args=("c", "b"), daemon=True).start()
    answers(wfr, fine, caught)
"""
    )
    assert "evicted True" in out
    check(out)


def test_replaying_re_registered_code_that_loops_leaves_the_runtime_answering() -> None:
    out = run_python(
        APP
        + """
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wfr, cold, fine = build()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(cold, instance_id="c")
    client.raise_workflow_event("c", "a")
    wfr.register_workflow(cold)  # registered again: replayed at its next event
    threading = __import__("threading")
    threading.Thread(target=client.raise_workflow_event, args=("c", "b"), daemon=True).start()
    answers(wfr, fine, caught)
"""
    )
    check(out)
