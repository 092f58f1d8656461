"""``python -m bench.million [--n 1000000]``: many instances each waiting on a 7-day timer.

Schedules ``n`` instances on ``WorkflowRuntime()`` (DuckDB in memory, the default warm
limit) with the runtime started, waits until every one waits on its timer, then moves
virtual time 7 days on and waits until all have completed. Prints the seconds of each
phase and the process's memory (resident set, now and at its peak).
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import timedelta

import wfkit as wf

from ._wfkit import START, week_timer


def _resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, warm: int | None) -> dict[str, float]:
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START), history_cache_max_instances=warm)
    wfr.register_workflow(week_timer)
    wfr.start()
    try:
        client = wf.DaprWorkflowClient(wfr)
        before = _resident_mb()
        start = time.perf_counter()
        for i in range(n):
            client.schedule_new_workflow(week_timer, input=i)
        wfr.clock.advance(timedelta(0))  # returns once every instance waits on its timer
        scheduled = time.perf_counter() - start
        waiting_mb = _resident_mb()
        start = time.perf_counter()
        wfr.clock.advance(timedelta(days=7))
        finished = time.perf_counter() - start
        done = sum(r.status is wf.WorkflowStatus.COMPLETED for r in wfr._engine.records())
        assert done == n, f"{done} of {n} completed"
        return {
            "instances": n,
            "schedule_s": scheduled,
            "fast_forward_s": finished,
            "kb_per_waiting_instance": (waiting_mb - before) * 1024 / n,
            "peak_mb": _peak_mb(),
        }
    finally:
        wfr.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.million", description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="instances")
    parser.add_argument(
        "--warm", type=int, default=None, help="history_cache_max_instances (default: wfkit's)"
    )
    args = parser.parse_args()
    result = run(args.n, args.warm)
    print(
        f"{result['instances']:,} instances waiting 7 days: scheduled and waiting in "
        f"{result['schedule_s']:.1f} s, fast-forwarded to completion in "
        f"{result['fast_forward_s']:.1f} s; {result['kb_per_waiting_instance']:.2f} KiB per "
        f"waiting instance; peak resident memory {result['peak_mb']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
