"""Kernel-side cost of the live graph widget on a large fan-out.

``python -m bench.widgets [--n 10000] [--repeat 5]`` runs an n-activity fan-out with no
widget, then with a ``GraphWidget`` displayed on the instance (created right after
scheduling, as ``wfr.watch`` would), and reports:

- the run's time without and with the widget (medians), and the difference;
- the time spent in widget code (creating it, engine commit callbacks and throttled
  refreshes; wall, and CPU of the refresh thread) as a share of the run's time;
- the messages the widget sends towards the browser (state updates on its comm), their
  count and bytes. No browser is involved: the comm's ``send`` is counted instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime
from typing import Any

import wfkit as wf
from wfkit.widgets import GraphWidget
from wfkit.widgets._live import hub_for

START = datetime(2025, 1, 1)


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


def run(n: int, *, widget: bool, store: str | None = None) -> dict[str, Any]:
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START), store=store)
    wfr.register_activity(noop)
    wfr.register_workflow(fan_out)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    try:
        hub = hub_for(wfr._engine)
        started = time.perf_counter()
        instance_id = client.schedule_new_workflow(fan_out, input=n)
        graph = counter = None
        created = 0.0
        if widget:
            before = time.perf_counter()
            graph = GraphWidget(wfr, instance_id)
            counter = CountingComm(graph)
            created = time.perf_counter() - before
        state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=300)
        run_seconds = time.perf_counter() - started
        assert state is not None and state.runtime_status is wf.WorkflowStatus.COMPLETED
        out: dict[str, Any] = {"run_s": run_seconds}
        if graph is not None and counter is not None:
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
                widget_s=created + hub.refresh_seconds + hub.note_seconds,
                widget_cpu_s=hub.refresh_cpu_seconds + hub.note_seconds,
                refreshes=hub.refreshes,
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="activities in the fan-out")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each variant")
    parser.add_argument("--store", default=None, help="'memory' (default: the DuckDB store)")
    args = parser.parse_args(argv)
    run(200, widget=True)  # warm-up (imports, threads)
    plain: list[float] = []
    watched: list[dict[str, Any]] = []
    for _ in range(args.repeat):  # alternate, so drift on a busy machine hits both alike
        plain.append(run(args.n, widget=False, store=args.store)["run_s"])
        watched.append(run(args.n, widget=True, store=args.store))
    base = statistics.median(plain)
    with_widget = statistics.median(r["run_s"] for r in watched)
    share = statistics.median(r["widget_s"] / r["run_s"] for r in watched)
    cpu_share = statistics.median(r["widget_cpu_s"] / r["run_s"] for r in watched)
    last = watched[-1]
    store = args.store or "duckdb"
    print(f"fan-out of {args.n:,} activities, {store} store, {args.repeat} runs each (medians)")
    print(f"  run without widget        {base * 1000:8.1f} ms")
    print(
        f"  run with graph displayed  {with_widget * 1000:8.1f} ms"
        f"  ({(with_widget / base - 1) * 100:+.1f}%)"
    )
    create = statistics.median(r["create_s"] for r in watched)
    print(f"  time in widget code       {share * 100:8.1f} % of the run (wall, creation included)")
    print(f"    creating the widget     {create * 1000:8.1f} ms")
    print(f"  CPU in live updates       {cpu_share * 100:8.1f} % of the run (refresh thread)")
    print(f"  refreshes                 {statistics.median(r['refreshes'] for r in watched):8.0f}")
    print(
        f"  messages to the browser   {statistics.median(r['messages'] for r in watched):8.0f}"
        f"  ({statistics.median(r['bytes'] for r in watched) / 1024:.1f} KiB in all,"
        " after the initial display)"
    )
    print(f"  graph drawn               {last['nodes']} nodes, groups {last['groups']}")
    if any(r["errors"] for r in watched):
        print("  widget errors:", [r["errors"] for r in watched])


if __name__ == "__main__":
    main()
