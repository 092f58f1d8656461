"""``python -m bench.realengine``: the same workflows on Dapr's real engine and on wfkit.

Chains and fan-outs of no-op activities, side by side in one run, on:

* Dapr's real engine: Dapr's Python SDK (``dapr.ext.workflow``) connected to the
  durabletask-go sidecar with its SQLite file, as ``make sidecar`` builds it;
* wfkit as a user creates it, ``WorkflowRuntime()`` (DuckDB in memory);
* wfkit with a file store, ``WorkflowRuntime(store="....duckdb")``.

Each figure is the median of ``--repeat`` runs, from scheduling one instance to having its
result; ``x wfkit`` is the time over wfkit's default at equal N. The machine's other load
moves absolute times: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import wfkit
from wfkit.interop.sidecar import Sidecar, start_sidecar

from ._table import HEADER, Row, median_of, render_row

WORKLOADS = ("chain", "fan-out/fan-in")
REFERENCE = "wfkit WorkflowRuntime()"


def noop(ctx, x):
    return x


def chain(ctx, n):
    for i in range(n):
        yield ctx.call_activity(noop, input=i)
    return n


def make_fan_out(wf: Any) -> Callable[..., Any]:
    def fan_out(ctx, n):
        results = yield wf.when_all([ctx.call_activity(noop, input=i) for i in range(n)])
        return len(results)

    return fan_out


@contextmanager
def dapr_engine(sidecar: Sidecar) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """A started SDK runtime on the sidecar, its client, and the workflows by workload."""
    import dapr.ext.workflow as dapr_wf
    from dapr.ext.workflow.logger import LoggerOptions

    quiet = LoggerOptions(log_level=logging.ERROR)
    address = {"host": sidecar.host, "port": str(sidecar.port)}
    runtime = dapr_wf.WorkflowRuntime(**address, logger_options=quiet)
    workflows = {"chain": chain, "fan-out/fan-in": make_fan_out(dapr_wf)}
    # the SDK marks a function it registered and refuses it in the next (fresh) runtime
    for fn in (*workflows.values(), noop):
        fn.__dict__.pop("_workflow_registered", None)
        fn.__dict__.pop("_activity_registered", None)
    for fn in workflows.values():
        runtime.register_workflow(fn)
    runtime.register_activity(noop)
    runtime.start()
    try:
        yield runtime, dapr_wf.DaprWorkflowClient(**address, logger_options=quiet), workflows
    finally:
        runtime.shutdown()


@contextmanager
def wfkit_engine(store: str | None) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    runtime = wfkit.WorkflowRuntime() if store is None else wfkit.WorkflowRuntime(store=store)
    workflows = {"chain": chain, "fan-out/fan-in": make_fan_out(wfkit)}
    for fn in workflows.values():
        runtime.register_workflow(fn)
    runtime.register_activity(noop)
    runtime.start()
    try:
        yield runtime, wfkit.DaprWorkflowClient(runtime), workflows
    finally:
        runtime.shutdown()


def timed(client: Any, workflow: Any, n: int) -> float:
    start = time.perf_counter()
    iid = client.schedule_new_workflow(workflow, input=n)
    state = client.wait_for_workflow_completion(iid, timeout_in_seconds=3600)
    elapsed = time.perf_counter() - start
    assert state is not None and state.runtime_status.name == "COMPLETED", state
    assert state.serialized_output == str(n), state.serialized_output
    return elapsed


def measure(engine: Any, workload: str, n: int, repeat: int) -> float:
    """Median seconds of ``repeat`` instances, each on a fresh runtime (and store)."""

    def once() -> float:
        with engine() as (_, client, workflows):
            return timed(client, workflows[workload], n)

    return median_of(once, repeat=repeat)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.realengine", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000])
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="wfkit-bench-") as tmp, start_sidecar() as sidecar:
        files = iter(range(1_000_000))
        engines: dict[str, Callable[[], Any]] = {
            REFERENCE: lambda: wfkit_engine(None),
            "wfkit file store": lambda: wfkit_engine(str(Path(tmp) / f"{next(files)}.duckdb")),
            "Dapr SDK + sidecar (SQLite)": lambda: dapr_engine(sidecar),
        }
        print(HEADER, flush=True)
        for workload in WORKLOADS:
            for n in args.sizes:
                reference = None
                for label, engine in engines.items():
                    seconds = measure(engine, workload, n, args.repeat)
                    row = Row(workload, n, label, seconds, seconds / n * 1e6)
                    if label == REFERENCE:
                        reference = seconds
                    rows.append(row)
                    shown = reference if label != REFERENCE else None
                    print(render_row(row, shown), flush=True)
    print(f"\nsidecar: {sidecar.db.name} on {sidecar.address}; x wfkit: time over {REFERENCE}")


if __name__ == "__main__":
    main()
