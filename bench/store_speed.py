"""What the history store costs: the same chain and fan-out through the real runtime on
each store, run in turns (memory, DuckDB in memory, DuckDB file, memory, ...) so that a
busy machine slows all of them alike; medians, and each store's ratio to the memory store.

    python bench/store_speed.py [--chain 10000] [--fan 10000] [--repeat 5]

Also: a chain step on a file store (ms, one durable commit per step), and resuming a file
store whose instance has 1,000 recorded steps (open, register, start: replayed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import wfkit as wf
from bench import _wfkit

#: ``default``: DuckDB in memory (what ``WorkflowRuntime()`` uses); ``file``: a DuckDB file
STORES = ["memory", "default", "file"]


def resume_time(directory: Path, steps: int) -> tuple[float, int]:
    """Seconds to reopen a file whose instance recorded ``steps`` activities and is waiting
    for an event, and have it running again (recovery replays its history)."""
    path = directory / "resume.duckdb"

    def build() -> wf.WorkflowRuntime:
        wfr = _wfkit.runtime(str(path))

        @wfr.workflow
        def steps_then_wait(ctx, n):  # type: ignore[no-untyped-def]
            for i in range(n):
                yield ctx.call_activity(_wfkit.noop, input=i)
            return (yield ctx.wait_for_external_event("go"))

        return wfr

    wfr = build()
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("steps_then_wait", input=steps, instance_id="long")
    while len(wfr.store.history("long")) < 3 * steps + 2:
        time.sleep(0.01)
    wfr.shutdown()
    start = time.perf_counter()
    again = build()
    again.start()
    elapsed = time.perf_counter() - start
    client = wf.DaprWorkflowClient(again)
    events = len(again.store.history("long"))
    client.raise_workflow_event("long", "go", data=1)
    assert client.wait_for_workflow_completion("long", timeout_in_seconds=60).serialized_output
    again.shutdown()
    return elapsed, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chain", type=int, default=10_000)
    parser.add_argument("--fan", type=int, default=10_000)
    parser.add_argument("--file-chain", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    stores = _wfkit.Stores()
    results: dict[tuple[str, str], list[float]] = {}
    workloads = [("chain", _wfkit.chain, args.chain), ("fan-out", _wfkit.fan_out, args.fan)]
    for _ in range(args.repeat):
        for name, workflow, n in workloads:
            for label in STORES:
                seconds = _wfkit.run_one(stores.make(label), workflow, n)
                results.setdefault((name, label), []).append(seconds)
        seconds = _wfkit.run_one(stores.make("file"), _wfkit.chain, args.file_chain)
        results.setdefault(("file chain", "duckdb file"), []).append(seconds)
    print(f"medians of {args.repeat} runs")
    for name, _, n in workloads:
        base = statistics.median(results[(name, "memory")])
        for label in STORES:
            times = results[(name, label)]
            median = statistics.median(times)
            print(
                f"  {name:8} {n:>7,}  {label:14} {median:8.3f} s  x{median / base:5.2f}   "
                f"(runs: {', '.join(f'{t:.3f}' for t in times)})"
            )
    step = statistics.median(results[("file chain", "duckdb file")]) / args.file_chain
    print(f"  file chain step ({args.file_chain:,} steps): {step * 1e3:.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        times = []
        for i in range(3):
            directory = Path(tmp) / str(i)
            directory.mkdir()
            elapsed, events = resume_time(directory, 1_000)
            times.append(elapsed)
    print(
        f"  resume a file store, one instance with 1,000 steps ({events:,} events): "
        f"{statistics.median(times):.3f} s"
    )


if __name__ == "__main__":
    main()
