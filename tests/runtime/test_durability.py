"""Kill a process running a file-backed runtime with SIGKILL; a new process resumes it.

Every instance completes; no activity whose completion the file recorded runs again
(activities in flight at the kill may: at least once, as on Dapr); timers keep their
virtual due times; events raised (the call returned) are not lost. ``bench/soak_durability.py``
does the same over hundreds of kill points.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import durability_app
import pytest

APP = Path(durability_app.__file__)
#: activity executions of one undisturbed run
TOTAL_ACTIVITIES = (
    2 * durability_app.CHAIN
    + durability_app.FAN
    + len(durability_app.TIMER_STEPS)
    + 4
    + durability_app.CHILDREN * 4
    + 2
)


@dataclass
class Run:
    killed: bool
    report: durability_app.Report


def log_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_and_resume(directory: Path, rng: random.Random, timeout: float = 120) -> Run:
    """Start the app, SIGKILL it once ``k`` activities have completed (``k`` random), check
    what the file holds, resume in a new process and check the outcome."""
    directory.mkdir(parents=True, exist_ok=True)
    target = rng.randrange(0, TOTAL_ACTIVITIES)
    first = subprocess.Popen([sys.executable, str(APP), str(directory), "start"])
    deadline = time.monotonic() + timeout
    while log_lines(directory / "activities.log") < target and first.poll() is None:
        if time.monotonic() > deadline:
            first.kill()
            raise AssertionError("the first process made no progress")
        time.sleep(0.0005)
    time.sleep(rng.uniform(0, 0.004))
    killed = first.poll() is None
    if killed:
        os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=timeout)
    completed = durability_app.completed_calls(directory / "wf.duckdb")
    second = subprocess.Popen([sys.executable, str(APP), str(directory), "resume"])
    try:
        assert second.wait(timeout=timeout) == 0, "the resumed process failed"
    finally:
        if second.poll() is None:
            second.kill()
    return Run(killed, durability_app.check(directory, completed, second.pid))


@pytest.mark.parametrize("seed", range(5))
def test_a_killed_runtime_resumes_without_losing_anything(tmp_path: Path, seed: int) -> None:
    run = kill_and_resume(tmp_path, random.Random(seed))
    assert run.report.ok, run.report


def test_an_undisturbed_run_completes_everything(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(APP), str(tmp_path), "start"], check=True, timeout=120)
    report = durability_app.check(tmp_path, set(), -1)
    assert report.ok, report
    assert report.reruns == 0
    assert log_lines(tmp_path / "activities.log") == TOTAL_ACTIVITIES
