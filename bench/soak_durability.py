"""Soak test of durability: kill a file-backed runtime with SIGKILL at hundreds of random
moments and resume it in a new process each time.

    python bench/soak_durability.py --runs 300 [--seed 1] [--keep DIR]

Prints counts: runs, kills (runs where the process was still running when killed),
instances lost, instances not completed, duplicate completed activities (completions
recorded in the file that ran again: must be 0), events lost, timer and clock problems,
and activity re-runs (in flight at the kill: allowed, at least once). The program and the
checks are those of ``tests/runtime/test_durability.py`` (a few kill points run in CI).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS / "runtime"), str(TESTS / "shared")]

from test_durability import kill_and_resume  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="keep the directories of failed runs here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    failures = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wfkit-soak-") as tmp:
        for i in range(args.runs):
            directory = Path(tmp) / f"run{i}"
            try:
                run = kill_and_resume(directory, rng)
            except Exception as exc:  # a resumed process that failed or hung
                counts["runs"] += 1
                counts["errors"] += 1
                failures.append((i, repr(exc)))
                continue
            report = run.report
            counts["runs"] += 1
            counts["kills"] += run.killed
            counts["instances lost"] += len(report.instances_lost)
            counts["instances not completed"] += len(report.not_completed)
            counts["wrong outputs"] += len(report.wrong_output)
            counts["duplicate completed activities"] += len(report.duplicate_completed)
            counts["events lost"] += len(report.events_lost)
            counts["timer problems"] += len(report.timer_problems)
            counts["clock problems"] += len(report.clock_problems)
            counts["activity re-runs (in flight at the kill)"] += report.reruns
            if not report.ok:
                failures.append((i, report))
                if args.keep:
                    shutil.copytree(directory, Path(args.keep) / directory.name)
            shutil.rmtree(directory, ignore_errors=True)
            if (i + 1) % 25 == 0:
                print(f"... {i + 1} runs, {len(failures)} failed", flush=True)
    print(f"soak: {counts['runs']} runs in {time.monotonic() - started:.0f} s")
    for key in (
        "runs",
        "kills",
        "errors",
        "instances lost",
        "instances not completed",
        "wrong outputs",
        "duplicate completed activities",
        "events lost",
        "timer problems",
        "clock problems",
        "activity re-runs (in flight at the kill)",
    ):
        print(f"  {key:45} {counts[key]}")
    for i, failure in failures[:10]:
        print(f"  run {i}: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
