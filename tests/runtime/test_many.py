"""Many instances at once: progress reports, a terminal bar only on a terminal, and an
interrupt (Ctrl-C, a kernel's stop button) that leaves the store consistent."""

from __future__ import annotations

import importlib.util
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import wfkit as wf
from wfkit.cli._progress import TerminalBar
from wfkit.runtime._many import Progress, interrupt_held, run_many

HERE = Path(__file__).parents[1] / "shared"  # the apps the tests run


def test_run_many_returns_states_in_order_and_reports_progress(wfr, client) -> None:
    @wfr.activity
    def half(ctx, x):
        if x % 5 == 0:
            raise ValueError("no multiples of five")
        return x / 2

    @wfr.workflow
    def halve(ctx, x):
        return (yield ctx.call_activity(half, input=x))

    reports: list[Progress] = []
    states = run_many(wfr, [(halve, x) for x in range(1, 21)], on_progress=reports.append)
    assert [s.serialized_output for s in states if s.runtime_status.name == "COMPLETED"] == [
        json.dumps(x / 2) for x in range(1, 21) if x % 5
    ]
    assert sum(s.runtime_status.name == "FAILED" for s in states) == 4
    assert reports[-1] == Progress(total=20, scheduled=20, finished=20, failed=4)
    assert all(a.finished <= b.finished for a, b in itertools.pairwise(reports))
    assert "20/20 finished (4 failed)" in reports[-1].describe()


def test_an_interrupt_is_held_until_the_block_ends() -> None:
    reached = False
    with pytest.raises(KeyboardInterrupt), interrupt_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupted_run_reports_it_and_leaves_the_runtime_usable(wfr, client) -> None:
    wfr.clock.auto_skip = False  # instances wait on their timer until the clock moves

    @wfr.workflow
    def later(ctx, x):
        from datetime import timedelta

        yield ctx.create_timer(timedelta(hours=1))
        return x

    reports: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        reports.append(progress)
        if progress.scheduled == 30 and not progress.interrupted:
            os.kill(os.getpid(), signal.SIGINT)  # the kernel's stop button sends this

    with pytest.raises(KeyboardInterrupt):
        run_many(wfr, [(later, x) for x in range(30)], on_progress=on_progress)
    last = reports[-1]
    assert last.interrupted and last.scheduled == 30 and last.finished == 0
    assert "interrupted" in last.describe()
    # every scheduled instance is stored, whole, and finishes once time moves
    assert len(wfr.instances()) == 30
    wfr.clock.auto_skip = True
    ids = list(wfr.instances()["instance_id"])
    outputs = sorted(int(client.wait_for_workflow_completion(i).serialized_output) for i in ids)
    assert outputs == list(range(30))


class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_the_terminal_bar_draws_only_on_a_terminal() -> None:
    tty, pipe = FakeTerminal(True), FakeTerminal(False)
    for stream in (tty, pipe):
        bar = TerminalBar(stream)
        bar.show(Progress(10, 10, 4, 1))
        bar.show(Progress(10, 10, 10, 1))
        bar.close()
    assert pipe.getvalue() == ""
    lines = tty.getvalue().split("\r")
    assert lines[1].startswith("[############..................] 4/10 finished (1 failed)")
    assert lines[2].startswith("[" + "#" * 30 + "] 10/10 finished (1 failed)")
    assert tty.getvalue().endswith("\n")


def wfkit(*args: str, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "wfkit.cli", *args]
    return subprocess.Popen(
        command,
        env=env,
        cwd=HERE,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WFKIT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parents[1]), env.get("PYTHONPATH", "")])
    env.update(MANY_STORE=str(tmp_path / "many.duckdb"), MANY_LOG=str(tmp_path / "ran.log"))
    env.update(extra)
    return env


def test_run_over_many_inputs(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text("".join(f"{x}\n" for x in range(12)))
    process = wfkit(
        "run", "many_app.py:double", "--inputs", str(inputs), "-o", "json", env=app_env(tmp_path)
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    rows = json.loads(out)
    assert [r["runtimeStatus"] for r in rows] == ["COMPLETED"] * 12
    assert "[" not in err  # stderr is a pipe here: no bar


def test_inputs_misuse_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wfkit.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('1\n{"x": \n')
    code = main(["run", str(HERE / "many_app.py") + ":double", "--inputs", str(bad)])
    assert code == 2 and "--inputs line 2" in capsys.readouterr().err
    code = main(["run", "double", "--inputs", str(bad), "--url", "http://127.0.0.1:9"])
    assert code == 2 and "FILE:WORKFLOW" in capsys.readouterr().err


def load_app(store: Path) -> Any:
    os.environ["MANY_STORE"] = str(store)
    try:
        spec = importlib.util.spec_from_file_location("many_app_reopened", HERE / "many_app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        del os.environ["MANY_STORE"]
    return module


def test_ctrl_c_during_a_run_over_many_inputs_leaves_the_store_consistent(
    tmp_path: Path,
) -> None:
    total = 400
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps(list(range(total))))
    log = tmp_path / "ran.log"
    process = wfkit(
        "run",
        "many_app.py:double",
        "--inputs",
        str(inputs),
        env=app_env(tmp_path, MANY_SLEEP="0.01"),
    )
    deadline = time.monotonic() + 120
    while not log.exists() or log.read_text().count("\n") < 20:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no activity ran"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    ran_before = log.read_text().count("\n")
    assert ran_before < total, "the run ended before the interrupt"

    # a new process opens the file, resumes what was unfinished and completes it
    app = load_app(tmp_path / "many.duckdb")
    wfr = app.wfr
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        stored = wfr.instances()
        assert 20 <= len(stored) <= total
        print(f"interrupted after {ran_before} activities; {len(stored)} instances stored")
        assert stored["instance_id"].is_unique
        for instance_id in stored["instance_id"]:
            state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=60)
            x = json.loads(state.serialized_input)
            assert state.runtime_status.name == "COMPLETED"
            assert json.loads(state.serialized_output) == 2 * x
            kinds = list(wfr.history(instance_id)["kind"])
            assert kinds.count("ExecutionStarted") == 1 and kinds[-1] == "ExecutionCompleted"
            assert kinds.count("TaskCompleted") == 1 and kinds.count("TimerFired") == 1
    finally:
        wfr.shutdown()


def test_the_progress_bar_widget_follows_the_progress() -> None:
    from wfkit.widgets import ProgressBar

    bar = ProgressBar(10)
    assert (bar.bar.value, bar.bar.max, bar.bar.bar_style) == (0, 10, "")
    assert "0/10 finished" in bar.label.value
    bar.show(Progress(10, 10, 10, 0))
    assert (bar.bar.value, bar.bar.bar_style) == (10, "success")
    bar.show(Progress(10, 10, 10, 2))
    assert bar.bar.bar_style == "danger" and "(2 failed)" in bar.label.value
    bar.show(Progress(10, 6, 3, 0, interrupted=True))
    assert bar.bar.bar_style == "warning" and "interrupted" in bar.label.value
    # what the browser draws
    assert bar.progress_view == {
        "value": 3,
        "max": 10,
        "style": "warning",
        "text": bar.label.value,
    }
