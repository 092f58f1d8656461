"""Kernel-side cost of the live graph widget on a large fan-out.

``python -m bench.widgets [--n 10000] [--repeat 5] [--store memory|duckdb|both]`` runs an
n-activity fan-out with no widget, then with a ``GraphWidget`` displayed on the instance
(created right after scheduling, as ``wfr.watch`` would), alternating the two, on each
store, and reports medians of:

- the run's wall time without and with the widget, and the difference;
- the kernel-side cost of the widget: CPU seconds spent in widget code (creating it, on
  the calling thread; the engine's commit callbacks, timed around each call; the
  throttled refreshes, CPU time of the refresh thread) divided by the wall time of the
  run without the widget;
- the history reads the widget made from the store after it was created;
- the messages the widget sends towards the browser (state updates on its comm), their
  count and bytes. No browser is involved: the comm's ``send`` is counted instead.

The libraries a notebook has loaded anyway (pandas, plotly, anywidget) are imported
before anything is timed, in both variants, and every run starts from a collected heap
(else a full collection in one run pays for the garbage of the runs before it).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from datetime import datetime
from typing import Any

import anywidget  # noqa: F401  (loaded in a notebook: not the widget's cost)
import pandas  # noqa: F401
import plotly  # noqa: F401

import wfkit as wf
from wfkit.widgets import GraphWidget
from wfkit.widgets._live import hub_for

START = datetime(2025, 1, 1)
STORES = {"memory": "memory", "duckdb": None}


def noop(ctx: Any, x: int) -> int:
    return x


def fan_out(ctx: Any, n: int) -> Any:
    results = yield wf.when_all([ctx.call_activity(noop, input=i) for i in range(n)])
    return len(results)


class CountingComm:
    """Wraps a widget's comm ``send``: counts messages and their JSON bytes."""

    def __init__(self, widget: Any):
        self.messages = 0
        self.bytes = 0
        comm = widget.comm
        original = comm.send

        def send(data: Any = None, metadata: Any = None, buffers: Any = None) -> Any:
            self.messages += 1
            self.bytes += len(json.dumps(data, default=str)) + sum(len(b) for b in buffers or ())
            return original(data=data, metadata=metadata, buffers=buffers)

        comm.send = send


class CountingReads:
    """Counts the history reads made from a store (``history`` and ``sql``) from now on."""

    def __init__(self, store: Any):
        self.reads = 0
        for name in ("history", "sql"):
            original = getattr(store, name, None)
            if original is not None:
                setattr(store, name, self._counted(original))

    def _counted(self, method: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.reads += 1
            return method(*args, **kwargs)

        return counted


def run(n: int, *, widget: bool, store: str | None = None) -> dict[str, Any]:
    gc.collect()
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=store)
    wfr.register_activity(noop)
    wfr.register_workflow(fan_out)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    try:
        hub = hub_for(wfr._engine)
        started = time.perf_counter()
        instance_id = client.schedule_new_workflow(fan_out, input=n)
        graph = counter = reads = None
        created = created_cpu = 0.0
        if widget:
            before, before_cpu = time.perf_counter(), time.thread_time()
            graph = GraphWidget(wfr, instance_id)
            created_cpu = time.thread_time() - before_cpu
            created = time.perf_counter() - before
            counter = CountingComm(graph)
            reads = CountingReads(wfr._engine.store)
        state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=300)
        run_seconds = time.perf_counter() - started
        assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED
        out: dict[str, Any] = {"run_s": run_seconds}
        if graph is not None and counter is not None and reads is not None:
            # let the throttled refresher catch up with the final state, then read the meters
            deadline = time.monotonic() + 5
            while graph.graph.get("instance", {}).get("status") != "COMPLETED":
                if time.monotonic() > deadline:
                    raise RuntimeError("the graph never showed the completed instance")
                time.sleep(0.02)
            nodes = graph.graph["nodes"]
            groups = graph.graph["groups"]
            out.update(
                create_s=created,
                create_cpu_s=created_cpu,
                note_s=hub.note_seconds,
                refresh_cpu_s=hub.refresh_cpu_seconds,
                widget_cpu_s=created_cpu + hub.note_seconds + hub.refresh_cpu_seconds,
                refreshes=hub.refreshes,
                store_reads=reads.reads,
                messages=counter.messages,
                bytes=counter.bytes,
                nodes=len(nodes),
                groups=[(g["size"], g["collapsed"], g["counts"]) for g in groups],
                errors=list(hub.errors),
            )
            graph.close()
        return out
    finally:
        wfr.shutdown()


def measure(n: int, repeat: int, store: str) -> None:
    backend = STORES[store]
    run(200, widget=True, store=backend)  # warm-up (first imports, threads)
    plain: list[float] = []
    watched: list[dict[str, Any]] = []
    for _ in range(repeat):  # alternate, so drift on a busy machine hits both alike
        plain.append(run(n, widget=False, store=backend)["run_s"])
        watched.append(run(n, widget=True, store=backend))

    def median(key: str) -> float:
        return statistics.median(r[key] for r in watched)

    base = statistics.median(plain)
    with_widget = median("run_s")
    cpu = median("widget_cpu_s")
    print(f"fan-out of {n:,} activities, {store} store, {repeat} runs each (medians)")
    print(f"  run without widget        {base * 1000:8.1f} ms")
    print(
        f"  run with graph displayed  {with_widget * 1000:8.1f} ms"
        f"  ({(with_widget - base) * 1000:+.1f} ms, {(with_widget / base - 1) * 100:+.1f}%)"
    )
    print(
        f"  kernel-side widget cost   {cpu / base * 100:8.1f} % of the run without widget"
        f"  ({cpu * 1000:.1f} ms CPU)"
    )
    print(f"    creating the widget     {median('create_cpu_s') * 1000:8.1f} ms CPU")
    print(f"    commit callbacks        {median('note_s') * 1000:8.1f} ms")
    print(f"    refreshes               {median('refresh_cpu_s') * 1000:8.1f} ms CPU", end="")
    print(f"  ({median('refreshes'):.0f} refreshes)")
    print(f"  history reads from store  {median('store_reads'):8.0f}  (after creation)")
    print(
        f"  messages to the browser   {median('messages'):8.0f}"
        f"  ({median('bytes') / 1024:.1f} KiB in all, after the initial display)"
    )
    last = watched[-1]
    print(f"  graph drawn               {last['nodes']} nodes, groups {last['groups']}")
    if any(r["errors"] for r in watched):
        print("  widget errors:", [r["errors"] for r in watched])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="activities in the fan-out")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each variant")
    parser.add_argument(
        "--store", choices=[*STORES, "both"], default="both", help="the store to run on"
    )
    args = parser.parse_args(argv)
    for store in STORES if args.store == "both" else [args.store]:
        measure(args.n, args.repeat, store)


if __name__ == "__main__":
    main()
