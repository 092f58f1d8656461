"""Time-travel cursors on large histories.

``python -m bench.timetravel [--n 100000] [--repeat 3]`` runs two workflows whose
histories have about ``n`` events (a chain of n/3 activities, a fan-out of n/2), then
reports, as medians of ``--repeat`` runs:

- open + last: ``open_cursor(...)`` and ``cursor.last()`` (read the history, replay all of
  it, build the frames of the last window), the figure the time-travel API promises to
  keep under one second for 100,000 events;
- of which read: reading the history from the store (or the file);
- back: one ``back()`` right after (a frame the jump already built);
- goto middle: a jump back to the middle (a replay from the start);
- graph: the execution graph at the last position.

Each is measured for the history in a memory store and in the default DuckDB store (in
memory), in the process that ran the workflow (a notebook's kernel), and for a history
file (``save_history``) and a DuckDB file, each opened in a new process after the
runtime that wrote it has shut down (a new kernel opening a saved history).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import wfkit as wf
from wfkit.inspect._histories import history_from
from wfkit.timetravel import load_history, open_cursor, save_history

START = datetime(2025, 1, 1)


def inc(ctx: Any, x: int) -> int:
    return x + 1


def chain(ctx: Any, n: int) -> Any:
    total = 0
    for _ in range(n):
        total = yield ctx.call_activity(inc, input=total)
    return total


def fan_out(ctx: Any, n: int) -> Any:
    results = yield wf.when_all([ctx.call_activity(inc, input=i) for i in range(n)])
    return sum(results)


def median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()  # the previous run's garbage is not this run's cost
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(workflow: Callable[..., Any], n: int, store: Any) -> tuple[wf.WorkflowRuntime, str]:
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=store)
    wfr.register_workflow(workflow)
    wfr.register_activity(inc)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    iid = client.schedule_new_workflow(workflow, input=n, instance_id=f"{workflow.__name__}-{n}")
    client.wait_for_workflow_completion(iid, timeout_in_seconds=600)
    return wfr, iid


def measure_saved(label: str, path: Path, iid: str, workflow: Any, repeat: int) -> None:
    """:func:`measure` on a history file or a DuckDB file, opened here."""
    if path.suffix == ".duckdb":
        store = wf.DuckDBStore(path, read_only=True)
        try:
            measure(label, store, iid, workflow, repeat)
        finally:
            store.close()
    else:
        measure(label, path, None, workflow, repeat)


def in_new_process(fn: Callable[..., None], *args: Any) -> None:
    process = multiprocessing.get_context("spawn").Process(target=fn, args=args)
    process.start()
    process.join()
    if process.exitcode:
        raise SystemExit(f"{fn.__name__}{args[:1]} failed (exit code {process.exitcode})")


def measure(label: str, source: Any, iid: str | None, workflow: Any, repeat: int) -> None:
    def read() -> Any:
        if iid is None:
            return load_history(source)
        return history_from(source, iid)

    def open_last() -> Any:
        cursor = open_cursor(source, iid, workflow=workflow)
        return cursor.last()

    cursor = open_cursor(source, iid, workflow=workflow)
    frame = cursor.last()
    events = len(cursor)
    t_read = median(read, repeat)
    t_open = median(open_last, repeat)
    t = time.perf_counter()
    cursor.back()
    t_back = time.perf_counter() - t
    t = time.perf_counter()
    cursor.goto(events // 2)
    t_middle = time.perf_counter() - t
    t = time.perf_counter()
    graph = cursor.frame_at(events - 1).graph
    t_graph = time.perf_counter() - t
    print(
        f"{label:<34} {events:>8,} {t_open * 1000:>10.0f} {t_read * 1000:>8.0f} "
        f"{t_back * 1000:>7.2f} {t_middle * 1000:>8.0f} {t_graph * 1000:>7.0f}  "
        f"{frame.status} at line {frame.line}, {len(graph.get('nodes', []))} graph nodes",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="events per history (about)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'history':<34} {'events':>8} {'open+last':>10} {'of read':>8} "
        f"{'back':>7} {'goto mid':>8} {'graph':>7}  (milliseconds)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for workflow, size in ((chain, args.n // 3), (fan_out, args.n // 2)):
            name = f"{workflow.__name__}({size:,})"
            wfr, iid = run(workflow, size, "memory")
            try:
                measure(f"{name}, memory store", wfr, iid, None, args.repeat)
                path = save_history(wfr, iid, Path(tmp))
            finally:
                wfr.shutdown()
            wfr, iid = run(workflow, size, None)
            try:
                measure(f"{name}, DuckDB store", wfr, iid, None, args.repeat)
            finally:
                wfr.shutdown()
            db = Path(tmp) / f"{workflow.__name__}.duckdb"
            wfr, iid = run(workflow, size, wf.DuckDBStore(db))
            wfr.shutdown()
            in_new_process(measure_saved, f"{name}, history file", path, iid, workflow, args.repeat)
            in_new_process(measure_saved, f"{name}, DuckDB file", db, iid, workflow, args.repeat)


if __name__ == "__main__":
    main()
