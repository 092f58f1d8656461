"""One bad workflow must not take the runtime down, and no write may be lost silently:
runaway workflow code, BaseExceptions from user code, store writes that fail, a busy
activity pool, commands on instances due later, and input that cannot be stored."""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import wfkit as wf

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20


def run_python(code: str, *, timeout: float = 60, cwd: Path | None = None) -> str:
    """Run ``code`` in a fresh interpreter; its stdout (it must exit 0 within timeout)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


# --------------------------------------------------------------------------- runaway code
RUNAWAY = """
import time, warnings
import wfkit as wf

wfr = wf.WorkflowRuntime(stuck_turn_seconds=0.3, shutdown_seconds=2)

@wfr.activity
def quick(ctx, x):
    return x + 1

@wfr.workflow
def runaway(ctx, _):
    yield ctx.call_activity(quick, input=1)
    while True:  # never yields again
        pass

@wfr.workflow
def fine(ctx, x):
    return (yield ctx.call_activity(quick, input=x))
"""


def test_runaway_workflow_code_leaves_the_runtime_answering() -> None:
    out = run_python(
        RUNAWAY
        + """
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(runaway, instance_id="bad")
    time.sleep(1.0)  # past the bound: reported
    t = time.monotonic()
    print("state", client.get_workflow_state("bad").runtime_status.name)
    client.schedule_new_workflow(fine, input=5, instance_id="good")
    print("good", client.wait_for_workflow_completion("good", timeout_in_seconds=5).serialized_output)
    client.raise_workflow_event("bad", "x")  # held until its code yields
    print("raise held", client.get_workflow_state("bad").runtime_status.name)
    client.terminate_workflow("bad", output="stop")
    state = client.get_workflow_state("bad")
    print("terminated", state.runtime_status.name, state.serialized_output)
    print("answered within", time.monotonic() - t < 5)
    print("kinds", [e.event_type.name for e in client.get_workflow_history("bad")][-3:])
    t = time.monotonic()
    wfr.shutdown()
    print("shutdown within", time.monotonic() - t < 3)
warned = [str(w.message) for w in caught if issubclass(w.category, wf.WfkitWarning)]
print("warned", len(warned), "'bad'" in warned[0])
print("at", warned[0].split(" at ")[1].split(". ")[0])
print("problems", any("'bad'" in p for p in wfr.problems))
""",
        timeout=60,
    )
    assert "state RUNNING" in out
    assert 'good "6"' in out or "good 6" in out
    assert "raise held RUNNING" in out
    assert 'terminated TERMINATED "stop"' in out
    assert "answered within True" in out
    # the event held for it is recorded before the termination, as Dapr records an inbox
    assert "kinds ['EVENT_RAISED', 'EXECUTION_TERMINATED', 'EXECUTION_COMPLETED']" in out
    assert "shutdown within True" in out
    assert "warned 1 True" in out
    # the warning names the source line of the loop
    assert re.search(r"at <string>:1[45] \(in runaway\)", out), out
    assert "problems True" in out


def test_a_slow_turn_is_reported_and_its_result_is_kept() -> None:
    wfr = wf.WorkflowRuntime(stuck_turn_seconds=0.2)

    @wfr.workflow
    def slow(ctx: Any, seconds: float) -> Any:
        time.sleep(seconds)  # blocks the code (not a yield): reported, then goes on
        value = yield ctx.create_timer(timedelta(hours=1))
        return value is None

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        with pytest.warns(wf.WfkitWarning, match="'slow-1'.*without yielding"):
            client.schedule_new_workflow(slow, input=0.8, instance_id="slow-1")
            time.sleep(1.2)
        state = client.wait_for_workflow_completion("slow-1", timeout_in_seconds=WAIT)
        assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED
        assert state.serialized_output == "true"
    finally:
        wfr.shutdown()


def test_wfkit_run_on_a_runaway_workflow_honours_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(RUNAWAY)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wfkit.cli", "run", "app.py:runaway"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2.5)  # imported, started, looping
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]


@pytest.mark.parametrize("error", ["SystemExit", "KeyboardInterrupt", "GeneratorExit"])
def test_base_exceptions_in_workflow_code_fail_the_instance_only(error: str) -> None:
    wfr = wf.WorkflowRuntime()
    exc = {"SystemExit": SystemExit, "KeyboardInterrupt": KeyboardInterrupt}.get(
        error, GeneratorExit
    )

    @wfr.activity
    def fine(ctx: Any, x: int) -> int:
        return x

    @wfr.activity
    def bad_activity(ctx: Any, x: int) -> int:
        raise exc("from an activity")

    @wfr.workflow
    def bad_workflow(ctx: Any, x: int) -> Any:
        yield ctx.call_activity(fine, input=x)
        raise exc("from the workflow")

    @wfr.workflow
    def calls_bad_activity(ctx: Any, x: int) -> Any:
        try:
            yield ctx.call_activity(bad_activity, input=x)
        except wf.TaskFailedError as failed:
            return str(failed)
        return "no error"

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        client.schedule_new_workflow(bad_workflow, input=1, instance_id="w")
        client.schedule_new_workflow(calls_bad_activity, input=1, instance_id="a")
        w = client.wait_for_workflow_completion("w", timeout_in_seconds=WAIT)
        a = client.wait_for_workflow_completion("a", timeout_in_seconds=WAIT)
        assert w is not None and w.runtime_status is wf.WorkflowStatus.FAILED
        assert w.failure_details is not None and w.failure_details.error_type == error
        assert a is not None and a.runtime_status is wf.WorkflowStatus.COMPLETED
        assert "from an activity" in (a.serialized_output or "")
        # the engine lives on
        assert wfr.is_running and wfr.error is None
        client.schedule_new_workflow(calls_bad_activity, input=2, instance_id="again")
        assert client.wait_for_workflow_completion("again", timeout_in_seconds=WAIT)
    finally:
        wfr.shutdown()


def test_a_stopped_engine_makes_every_client_call_say_so() -> None:
    wfr = wf.WorkflowRuntime()

    @wfr.workflow
    def waits(ctx: Any, _: Any) -> Any:
        return (yield ctx.wait_for_external_event("go"))

    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow(waits, instance_id="w")
    client.wait_for_workflow_start("w", timeout_in_seconds=WAIT)
    engine = wfr._engine
    # the engine thread ends on an error of its own (not user code): simulated by a turn
    # step that raises out of the engine loop
    broken = RuntimeError("disk controller on fire")

    def explode() -> bool:
        raise broken

    engine._turn = explode  # type: ignore[method-assign]
    with engine._lock:
        engine._wake.notify_all()
    deadline = time.monotonic() + WAIT
    while engine.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not engine.running and engine.failure is broken
    assert wfr.error is not None and "disk controller on fire" in wfr.error
    calls = [
        lambda: client.raise_workflow_event("w", "go", data=1),
        lambda: client.terminate_workflow("w"),
        lambda: client.pause_workflow("w"),
        lambda: client.resume_workflow("w"),
        lambda: client.schedule_new_workflow(waits, instance_id="x"),
        lambda: client.purge_workflow("w"),
        lambda: client.wait_for_workflow_completion("w", timeout_in_seconds=1),
    ]
    for call in calls:
        with pytest.raises(wf.RuntimeStoppedError, match="disk controller on fire"):
            call()
    assert client.get_workflow_state("w").runtime_status is wf.WorkflowStatus.RUNNING
    assert [e.event_type.name for e in client.get_workflow_history("w")][-1] != "EVENT_RAISED"
    wfr.shutdown()


# --------------------------------------------------------------------------- store writes
class FailingStore(wf.MemoryStore):
    """A memory store whose commits fail while ``failing`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False

    def commit(self, batch: Any) -> None:
        if self.failing:
            raise OSError(28, "No space left on device")
        super().commit(batch)


def test_a_refused_write_reaches_the_caller_and_is_retried() -> None:
    store = FailingStore()
    wfr = wf.WorkflowRuntime(store=store)

    @wfr.activity
    def step(ctx: Any, x: int) -> int:
        return x + 1

    @wfr.workflow
    def chain(ctx: Any, x: int) -> Any:
        x = yield ctx.call_activity(step, input=x)
        x += yield ctx.wait_for_external_event("go")
        return (yield ctx.call_activity(step, input=x))

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        store.failing = True
        with pytest.raises(wf.StoreWriteError, match="No space left on device"):
            client.schedule_new_workflow(chain, input=1, instance_id="c")
        # a failed call leaves things as they were
        assert client.get_workflow_state("c") is None and store.record("c") is None
        assert wfr.error is not None and "No space left" in wfr.error
        store.failing = False
        client.schedule_new_workflow(chain, input=1, instance_id="c")
        client.wait_for_workflow_start("c", timeout_in_seconds=WAIT)
        store.failing = True
        with pytest.raises(wf.StoreWriteError):  # its episode could not be recorded
            client.raise_workflow_event("c", "go", data=10)
        with pytest.raises(wf.StoreWriteError):
            client.wait_for_workflow_completion("c", timeout_in_seconds=WAIT)
        assert any("refused a write" in p for p in wfr.problems)
        store.failing = False  # the watchdog retries what was refused
        state = client.wait_for_workflow_completion("c", timeout_in_seconds=WAIT)
        assert state is not None and state.serialized_output == "13"
        kinds = [e.event_type.name for e in client.get_workflow_history("c")]
        assert kinds.count("EVENT_RAISED") == 1  # recorded once, when the store took it
        assert wfr.error is None and wfr.problems[-1] == "the store accepts writes again"
        assert store.record("c").status is wf.WorkflowStatus.COMPLETED  # type: ignore[union-attr]
    finally:
        store.failing = False
        wfr.shutdown()


DISK_FULL_WRITER = """
import os, resource, signal, sys, time
import wfkit as wf

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
wfr = wf.WorkflowRuntime(store="runs.duckdb")

@wfr.activity
def pad(ctx, i):
    time.sleep(0.3)
    return "x" * 5000 + str(i)

@wfr.workflow
def work(ctx, i):
    a = yield ctx.call_activity(pad, input=i)
    b = yield ctx.call_activity(pad, input=i + 1)
    return len(a) + len(b)

wfr.start()
client = wf.DaprWorkflowClient(wfr)
for i in range(40):
    client.schedule_new_workflow(work, input=i, instance_id=f"w{i}")
size = max(os.path.getsize(f) for f in ("runs.duckdb", "runs.duckdb.wal") if os.path.exists(f))
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 30_000, size + 30_000))
errors = 0
for i in range(40):
    try:
        client.wait_for_workflow_completion(f"w{i}", timeout_in_seconds=20)
    except wf.StoreWriteError:
        errors += 1
print("errors", errors, "error state", wfr.error is not None)
sys.stdout.flush()
__import__("os")._exit(0)  # as a crash: no clean shutdown
"""

DISK_FULL_READER = """
import wfkit as wf
wfr = wf.WorkflowRuntime(store="runs.duckdb")

@wfr.activity
def pad(ctx, i):
    return "x" * 5000 + str(i)

@wfr.workflow
def work(ctx, i):
    a = yield ctx.call_activity(pad, input=i)
    b = yield ctx.call_activity(pad, input=i + 1)
    return len(a) + len(b)

wfr.start()
client = wf.DaprWorkflowClient(wfr)
ids = client.list_workflow_instance_ids().instance_ids
outputs = [client.wait_for_workflow_completion(i, timeout_in_seconds=30).serialized_output for i in ids]
print("instances", len(ids), "completed", sum(o is not None for o in outputs))
wfr.shutdown()
"""


def test_a_full_disk_fails_the_waiting_caller_and_loses_nothing(tmp_path: Path) -> None:
    out = run_python(DISK_FULL_WRITER, cwd=tmp_path, timeout=120)
    errors = int(out.split("errors ")[1].split()[0])
    assert errors >= 1 and "error state True" in out, out
    out = run_python(DISK_FULL_READER, cwd=tmp_path, timeout=120)
    assert "instances 40 completed 40" in out, out


# --------------------------------------------------------------------------- activity pool
def test_a_short_activity_does_not_wait_behind_a_long_one() -> None:
    wfr = wf.WorkflowRuntime(maximum_thread_pool_workers=4)
    release = threading.Event()

    @wfr.activity
    def long(ctx: Any, _: Any) -> str:
        release.wait(WAIT)
        return "long"

    @wfr.activity
    def short(ctx: Any, _: Any) -> str:
        return "short"

    @wfr.workflow
    def one(ctx: Any, name: str) -> Any:
        return (yield ctx.call_activity(name, input=None))

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        client.schedule_new_workflow(one, input="long", instance_id="long")
        deadline = time.monotonic() + WAIT
        while not wfr._engine.executing("long") and time.monotonic() < deadline:
            time.sleep(0.005)
        started = time.monotonic()
        client.schedule_new_workflow(one, input="short", instance_id="short")
        state = client.wait_for_workflow_completion("short", timeout_in_seconds=WAIT)
        assert state is not None and state.serialized_output == '"short"'
        assert time.monotonic() - started < 5  # not behind the long one (it waits 20 s)
        assert client.get_workflow_state("long").runtime_status is wf.WorkflowStatus.RUNNING
    finally:
        release.set()
        wfr.shutdown()


def run_fan_out(workers: int, activity: Any, n: int) -> Any:
    """The output of a fan-out of ``n`` calls of ``activity`` (it must complete) on a
    pool of at most ``workers`` threads."""
    wfr = wf.WorkflowRuntime(maximum_thread_pool_workers=workers)
    wfr.register_activity(activity)

    @wfr.workflow
    def fan(ctx: Any, n: int) -> Any:
        return (yield wf.when_all([ctx.call_activity(activity, input=i) for i in range(n)]))

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        iid = client.schedule_new_workflow(fan, input=n)
        state = client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
        assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED
        return json.loads(state.serialized_output)
    finally:
        wfr.shutdown()


def test_quick_activities_of_a_fan_out_run_on_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More threads on activities that finish at once only take turns at the interpreter;
    the pool grows only when no activity finished for a while (made long here: a pause
    of the machine must not count as blocked activities)."""
    from wfkit.runtime._workers import ActivityWorkers

    monkeypatch.setattr(ActivityWorkers, "FLUSH_SECONDS", 0.5)
    threads: set[int] = set()

    def quick(ctx: Any, i: int) -> int:
        threads.add(threading.get_ident())
        return i

    assert run_fan_out(8, quick, 300) == list(range(300))
    assert len(threads) == 1


def test_blocked_activities_get_every_thread_of_the_pool() -> None:
    """Six calls that each wait for all six to run at once: the pool must grow to six."""
    together = threading.Barrier(6, timeout=WAIT)

    def meet(ctx: Any, i: int) -> int:
        together.wait()
        return i

    try:
        assert run_fan_out(6, meet, 6) == list(range(6))
    finally:
        together.abort()


def test_a_pool_thread_lost_to_a_runaway_turn_is_replaced() -> None:
    """The results thread may run a turn (the results it hands back make an instance
    ready) whose code never returns; once the engine gives that turn up, the pool must
    go on: a new results thread watches for blocked workers and adds threads."""
    from wfkit.runtime._workers import ActivityWorkers

    hang, gate = threading.Event(), threading.Event()
    lost: list[threading.Thread] = []
    delivered: list[str] = []

    def deliver(out: list[Any]) -> None:
        if threading.current_thread().name == "wfkit-activity-results" and not lost:
            lost.append(threading.current_thread())
            hang.wait(WAIT)  # a turn whose code does not return
        delivered.extend(call for call, _, _ in out)

    def run(call: str) -> tuple[str, Any, BaseException | None]:
        if call == "blocked":
            gate.wait(WAIT)
        else:
            time.sleep(0.001)  # long enough for the results thread to hand some back
        return call, None, None

    workers = ActivityWorkers(2, run, deliver)
    try:
        workers.submit([f"quick-{i}" for i in range(50)])  # a long queue: results collected
        deadline = time.monotonic() + WAIT
        while not lost and time.monotonic() < deadline:
            time.sleep(0.005)
        assert lost, "the results thread never handed results back"
        workers.lost(lost[0])  # as the engine does when it gives the turn up
        workers.submit(["blocked", "behind"])  # one worker blocks: another must come
        while "behind" not in delivered and time.monotonic() < deadline:
            time.sleep(0.005)
        assert "behind" in delivered
    finally:
        gate.set()
        hang.set()
        workers.shutdown(WAIT)


def test_a_stalled_activity_is_reported_and_shutdown_leaves_it_in_flight(tmp_path: Path) -> None:
    store = tmp_path / "hung.duckdb"
    release = threading.Event()
    runs: list[str] = []

    def runtime() -> wf.WorkflowRuntime:
        wfr = wf.WorkflowRuntime(store=store, stalled_activity_seconds=0.2, shutdown_seconds=0.5)

        @wfr.activity
        def hangs(ctx: Any, _: Any) -> str:
            runs.append("run")
            if len(runs) == 1:
                release.wait(WAIT)  # hung the first time
            return "done"

        @wfr.workflow
        def flow(ctx: Any, _: Any) -> Any:
            return (yield ctx.call_activity(hangs, input=None))

        return wfr

    wfr = runtime()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    with pytest.warns(wf.WfkitWarning, match="activity 'hangs'.*has run for over 0.2 s"):
        client.schedule_new_workflow("flow", instance_id="h")
        deadline = time.monotonic() + WAIT
        while not any("'hangs'" in p for p in wfr.problems) and time.monotonic() < deadline:
            time.sleep(0.05)
    started = time.monotonic()
    wfr.shutdown()
    assert time.monotonic() - started < 3
    # the hung call is in flight: it runs again at the next start, as after a crash
    again = runtime()
    again.start()
    try:
        state = wf.DaprWorkflowClient(again).wait_for_workflow_completion(
            "h", timeout_in_seconds=WAIT
        )
        assert state is not None and state.serialized_output == '"done"'
        assert len(runs) == 2
    finally:
        release.set()
        again.shutdown()


# --------------------------------------------------------------------------- start_at
STATUSES = ["PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "FAILED", "TERMINATED"]
COMMANDS = ["pause", "resume", "terminate", "raise", "purge"]
# Dapr's answer: the status afterwards, "error" (refused), or "purged". Commands on a
# finished instance are dropped by Dapr's engine; purge refuses an unfinished one.
EXPECTED = {
    "PENDING": ["SUSPENDED", "PENDING", "TERMINATED", "PENDING", "error"],
    "RUNNING": ["SUSPENDED", "RUNNING", "TERMINATED", "COMPLETED", "error"],
    "SUSPENDED": ["SUSPENDED", "RUNNING", "TERMINATED", "SUSPENDED", "error"],
    "COMPLETED": ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "purged"],
    "FAILED": ["FAILED", "FAILED", "FAILED", "FAILED", "purged"],
    "TERMINATED": ["TERMINATED", "TERMINATED", "TERMINATED", "TERMINATED", "purged"],
}


@pytest.fixture
def matrix_runtime() -> Any:
    wfr = wf.WorkflowRuntime()
    ran: list[str] = []

    @wfr.activity
    def note(ctx: Any, iid: str) -> str:
        ran.append(iid)
        return iid

    @wfr.workflow
    def gated(ctx: Any, mode: str) -> Any:
        yield ctx.call_activity(note, input=ctx.instance_id)
        if mode == "fail":
            raise ValueError("failed on purpose")
        if mode == "done":
            return "done"
        return (yield ctx.wait_for_external_event("go"))

    wfr.start()
    yield wfr, ran
    wfr.shutdown()


def _put_in(client: wf.DaprWorkflowClient, wfr: wf.WorkflowRuntime, status: str, iid: str) -> None:
    mode = {"COMPLETED": "done", "FAILED": "fail"}.get(status, "wait")
    start_at = wfr.clock.now() + timedelta(days=30) if status == "PENDING" else None
    client.schedule_new_workflow("gated", input=mode, instance_id=iid, start_at=start_at)
    if status == "PENDING":
        return
    if status in ("COMPLETED", "FAILED"):
        client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
        return
    deadline = time.monotonic() + WAIT
    while not wfr._engine.orchestration(iid) or wfr._engine.orchestration(
        iid
    ).waiting_for_events != ["go"]:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    if status == "SUSPENDED":
        client.pause_workflow(iid)
    if status == "TERMINATED":
        client.terminate_workflow(iid)
    assert client.get_workflow_state(iid).runtime_status.name == status


def act(client: wf.DaprWorkflowClient, command: str, iid: str) -> None:
    if command == "raise":
        client.raise_workflow_event(iid, "go", data="went")
    else:
        name = {"pause": "pause_workflow", "resume": "resume_workflow"}.get(command)
        getattr(client, name or f"{command}_workflow")(iid)


@pytest.mark.parametrize("status", STATUSES)
def test_command_matrix_matches_dapr(matrix_runtime: Any, status: str) -> None:
    wfr, ran = matrix_runtime
    client = wf.DaprWorkflowClient(wfr)
    for command, expected in zip(COMMANDS, EXPECTED[status], strict=True):
        iid = f"{status}-{command}"
        _put_in(client, wfr, status, iid)
        before = len(client.get_workflow_history(iid))
        if expected == "error":
            with pytest.raises(wf.InvalidInstanceStateError):
                act(client, command, iid)
            expected = status
        else:
            act(client, command, iid)
        if expected == "purged":
            assert client.get_workflow_state(iid) is None
            continue
        if expected == "COMPLETED" and status == "RUNNING":
            client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
        state = client.get_workflow_state(iid)
        assert state.runtime_status.name == expected, (status, command)
        if status in ("COMPLETED", "FAILED", "TERMINATED"):  # dropped: nothing written
            assert len(client.get_workflow_history(iid)) == before
        if status == "PENDING":
            assert iid not in ran  # its code did not run early


def test_an_instance_due_later_keeps_its_events_and_starts_on_time() -> None:
    wfr = wf.WorkflowRuntime()

    @wfr.workflow
    def later(ctx: Any, _: Any) -> Any:
        value = yield ctx.wait_for_external_event("go")
        return [value, ctx.current_utc_datetime.isoformat()]

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        due = wfr.clock.now() + timedelta(days=3)
        client.schedule_new_workflow(later, instance_id="l", start_at=due)
        client.raise_workflow_event("l", "go", data=1)
        client.pause_workflow("l")
        wfr.clock.advance(timedelta(days=4))  # due while paused: it does not start
        assert client.get_workflow_state("l").runtime_status is wf.WorkflowStatus.SUSPENDED
        assert len(client.get_workflow_history("l")) == 0
        client.resume_workflow("l")
        state = client.wait_for_workflow_completion("l", timeout_in_seconds=WAIT)
        assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED
        value, when = json.loads(state.serialized_output or "null")
        assert value == 1 and when >= due.isoformat()
    finally:
        wfr.shutdown()


def test_terminating_an_instance_due_later_never_runs_its_code() -> None:
    wfr = wf.WorkflowRuntime()
    ran: list[int] = []

    @wfr.workflow
    def later(ctx: Any, _: Any) -> Any:
        ran.append(1)
        yield ctx.create_timer(timedelta(seconds=1))

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        due = wfr.clock.now() + timedelta(days=30)
        client.schedule_new_workflow(later, instance_id="t", start_at=due)
        client.terminate_workflow("t", output="never")
        state = client.get_workflow_state("t")
        assert state.runtime_status is wf.WorkflowStatus.TERMINATED
        assert state.serialized_output == '"never"'
        wfr.clock.advance(timedelta(days=31))
        assert ran == []
        assert client.purge_workflow("t") == 1
    finally:
        wfr.shutdown()


# --------------------------------------------------------------------------- bad input
SURROGATE = "bad\ud800"


def bad_inputs(client: wf.DaprWorkflowClient, wfr: wf.WorkflowRuntime) -> list[Any]:
    """Calls with input that cannot be stored or is out of range."""
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    return [
        lambda: client.schedule_new_workflow("echo", instance_id=SURROGATE),
        lambda: client.schedule_new_workflow(SURROGATE),
        lambda: client.raise_workflow_event("r", SURROGATE, data=1),
        lambda: wfr.register_workflow(lambda ctx: None, name=SURROGATE),
        lambda: wfr.register_activity(lambda ctx: None, name=SURROGATE),
        lambda: client.schedule_new_workflow("echo", input=float("nan")),
        lambda: client.schedule_new_workflow("echo", input={"x": float("inf")}),
        lambda: client.schedule_new_workflow("echo", input=[-float("inf")]),
        lambda: client.raise_workflow_event("r", "go", data=float("nan")),
        lambda: client.terminate_workflow("r", output=float("nan")),
        lambda: client.schedule_new_workflow("echo", input=deep),
        lambda: client.raise_workflow_event("r", "go", data=deep),
        lambda: wf.WorkflowRuntime(max_payload_bytes=-1),
        lambda: wf.WorkflowRuntime(max_payload_bytes=0),
        lambda: wf.WorkflowRuntime(stuck_turn_seconds=-1),
        lambda: wf.WorkflowRuntime(shutdown_seconds=0),
        lambda: client.list_workflow_instance_ids(continuation_token="abc"),
        lambda: client.list_workflow_instance_ids(continuation_token="-1"),
    ]


def test_bad_input_gets_a_typed_error_and_changes_nothing() -> None:
    wfr = wf.WorkflowRuntime()

    @wfr.workflow
    def echo(ctx: Any, x: Any) -> Any:
        return x

    @wfr.workflow
    def waits(ctx: Any, _: Any) -> Any:
        return (yield ctx.wait_for_external_event("go"))

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        client.schedule_new_workflow(waits, instance_id="r")
        client.wait_for_workflow_start("r", timeout_in_seconds=WAIT)
        before = (wfr.instances().shape, len(client.get_workflow_history("r")))
        calls = bad_inputs(client, wfr)
        typed = 0
        for call in calls:
            with pytest.raises(wf.WfkitError) as info:
                call()
            assert "Error" not in str(info.value)[:1]  # a message, not a repr
            typed += 1
        assert typed == len(calls)
        assert (wfr.instances().shape, len(client.get_workflow_history("r"))) == before
        assert wfr.sql("SELECT count(*) AS n FROM history")["n"][0] > 0  # reads still work
        client.raise_workflow_event("r", "go", data="fine")
        assert client.wait_for_workflow_completion("r", timeout_in_seconds=WAIT)
    finally:
        wfr.shutdown()


@pytest.mark.parametrize("store", ["memory", None])
def test_unstorable_text_from_workflow_or_activity_code_fails_only_that(store: Any) -> None:
    wfr = wf.WorkflowRuntime(store=store)

    @wfr.activity
    def raises(ctx: Any, _: Any) -> None:
        raise ValueError(SURROGATE)

    @wfr.workflow
    def activity_error(ctx: Any, _: Any) -> Any:
        yield ctx.call_activity(raises)

    @wfr.workflow
    def status(ctx: Any, _: Any) -> Any:
        ctx.set_custom_status(SURROGATE)
        yield ctx.create_timer(timedelta(seconds=1))

    @wfr.workflow
    def waits_badly(ctx: Any, _: Any) -> Any:
        yield ctx.wait_for_external_event(None)

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        for name in ("activity_error", "status", "waits_badly"):
            client.schedule_new_workflow(name, instance_id=name)
            state = client.wait_for_workflow_completion(name, timeout_in_seconds=WAIT)
            assert state is not None and state.runtime_status is wf.WorkflowStatus.FAILED
        failure = client.get_workflow_state("activity_error").failure_details
        assert failure is not None and "bad\\ud800" in failure.message  # escaped, stored
        assert client.get_workflow_state("status").failure_details.error_type == (
            "UnstorableTextError"
        )
        waits = client.get_workflow_state("waits_badly").failure_details
        assert waits.error_type == "InvalidArgumentError" and "non-empty string" in waits.message
        assert len(wfr.instances()) == 3 and wfr.error is None  # the store still reads
    finally:
        wfr.shutdown()


def test_the_clock_panel_shows_a_runtime_error() -> None:
    from wfkit.widgets import ClockPanel

    store = FailingStore()
    wfr = wf.WorkflowRuntime(store=store)

    @wfr.workflow
    def echo(ctx: Any, x: Any) -> Any:
        return x

    wfr.start()
    try:
        panel = ClockPanel(wfr, live=False)
        store.failing = True
        with pytest.raises(wf.StoreWriteError):
            wf.DaprWorkflowClient(wfr).schedule_new_workflow(echo, input=1)
        panel.refresh()
        assert "No space left on device" in panel.clock_view["error"]  # drawn as an error
        assert "No space left on device" in panel.time_label.value
    finally:
        store.failing = False
        wfr.shutdown()


def test_the_garbage_collector_is_off_only_while_turns_run() -> None:
    """A turn pauses the cyclic collector (a burst of objects that live on would set off
    passes over the whole heap); the pause ends soon after the last turn, with no
    other turn to end it, and as soon as a turn whose code does not return is
    detached."""
    wfr = wf.WorkflowRuntime(stuck_turn_seconds=0.2)
    seen: list[bool] = []
    release = threading.Event()

    @wfr.workflow
    def looks(ctx: Any, block: bool) -> Any:
        seen.append(gc.isenabled())
        if block:
            release.wait(20)  # no yield: the watchdog detaches the turn
        return "done"
        yield

    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        client.schedule_new_workflow(looks, input=False, instance_id="quick")
        client.wait_for_workflow_completion("quick", timeout_in_seconds=20)
        assert seen == [False]
        deadline = time.monotonic() + 20  # the engine thread ends the pause once due
        while not gc.isenabled():
            assert time.monotonic() < deadline, "the collector stayed off"
            time.sleep(0.01)
        with pytest.warns(wf.WfkitWarning, match="without yielding"):
            client.schedule_new_workflow(looks, input=True, instance_id="stuck")
            deadline = time.monotonic() + 20
            while not any("'stuck'" in p for p in wfr.problems):
                assert time.monotonic() < deadline, "timed out"
                time.sleep(0.02)
        assert seen == [False, False] and gc.isenabled()  # on while the stuck code runs
        release.set()
        client.wait_for_workflow_completion("stuck", timeout_in_seconds=20)
        assert gc.isenabled()
    finally:
        release.set()
        wfr.shutdown()
