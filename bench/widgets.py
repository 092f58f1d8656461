"""Cost of the live graph widget on a large fan-out, and of the dashboard over many
instances: kernel side, and the first draw in Chromium.

``python -m bench.widgets [--n 10000] [--repeat 5] [--store memory|duckdb|both]
[--part graph|dashboard|both] [--instances 100000] [--browser]`` runs an n-activity
fan-out with no widget, then with a ``GraphWidget`` displayed on the instance
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

The dashboard part runs ``--instances`` one-activity instances with no widget, then with a
live dashboard displayed, and reports the same kernel-side cost, then the time to compute
``dashboard_data`` and to create the dashboard over the finished instances, and the size
of what it sends. With ``--browser`` each part also draws the widget's final state in
headless Chromium (``bench/_widgets_browser.py``) and reports its first draw.

The libraries a notebook has loaded anyway (pandas, plotly, anywidget) are imported
before anything is timed, in both variants, and every run starts from a collected heap
(else a full collection in one run pays for the garbage of the runs before it).
"""

from __future__ import annotations

import argparse
import contextlib
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
from bench import _widgets_browser as chromium
from wfkit.widgets import GraphWidget, dashboard, dashboard_data
from wfkit.widgets._live import engine_of, hub_for

START = datetime(2025, 1, 1)
STORES = {"memory": "memory", "duckdb": None}


def noop(ctx: Any, x: int) -> int:
    return x


def single(ctx: Any, x: int) -> Any:
    return (yield ctx.call_activity(noop, input=x))


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
        hub = hub_for(engine_of(wfr))  # the hub the widgets use
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
                state=graph.get_state(),
            )
            graph.close()
        return out
    finally:
        wfr.shutdown()


def measure(n: int, repeat: int, store: str, browser: Any) -> None:
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
    if browser is not None:
        drawn = chromium.draw_widget(browser, "graph", last["state"])
        print(
            f"  first draw in Chromium    {drawn['ms']:8.1f} ms"
            f"  (state {drawn['bytes'] / 1024:.1f} KiB, {drawn['elements']} elements)"
        )


def run_many(n: int, *, widget: bool, store: str | None = None) -> dict[str, Any]:
    """``n`` one-activity instances, with or without a live dashboard displayed."""
    gc.collect()
    # a store of its own (the default one is the app's, shared by the runtimes of a process)
    wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False), store=store or ":memory:")
    wfr.register_activity(noop)
    wfr.register_workflow(single)
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    try:
        hub = hub_for(engine_of(wfr))
        board = None
        created_cpu = 0.0
        started = time.perf_counter()
        if widget:
            before_cpu = time.thread_time()
            board = dashboard(wfr)
            created_cpu = time.thread_time() - before_cpu
        ids = [client.schedule_new_workflow(single, input=i) for i in range(n)]
        for instance_id in ids:
            client.wait_for_workflow_completion(instance_id, timeout_in_seconds=300)
        out: dict[str, Any] = {"run_s": time.perf_counter() - started}
        if board is not None:
            out.update(
                create_cpu_s=created_cpu,
                note_s=hub.note_seconds,
                refresh_cpu_s=hub.refresh_cpu_seconds,
                widget_cpu_s=created_cpu + hub.note_seconds + hub.refresh_cpu_seconds,
                refreshes=hub.refreshes,
                errors=list(hub.errors),
            )
            board.close()
        else:
            out.update(_board_over(wfr))
        return out
    finally:
        wfr.shutdown()


def _board_over(wfr: Any) -> dict[str, Any]:
    """Computing the dashboard's data, and creating it, over the runtime's instances."""
    import plotly.io

    engine = engine_of(wfr)
    before = time.perf_counter()
    data = dashboard_data(engine.records())
    data_s = time.perf_counter() - before
    before = time.perf_counter()
    try:
        from wfkit.widgets._board_queries import BoardQueries
    except ImportError:  # a version that computed them from dashboard_data
        pass
    else:
        queries = BoardQueries(engine, include_children=False)
        queries.board()
        queries.page("all", "all", 100)
    aggregates_s = time.perf_counter() - before
    before = time.perf_counter()
    board = dashboard(wfr, live=False)
    create_s = time.perf_counter() - before
    figure = json.loads(plotly.io.to_json(board.figure))
    panel = board.panel.get_state()
    board.close()
    return {
        "rows": len(data),
        "data_s": data_s,
        "aggregates_s": aggregates_s,
        "board_s": create_s,
        "figure": figure,
        "panel": panel,
    }


def measure_dashboard(n: int, repeat: int, store: str, browser: Any) -> None:
    backend = STORES[store]
    run_many(200, widget=True, store=backend)  # warm-up
    plain: list[dict[str, Any]] = []
    watched: list[dict[str, Any]] = []
    for _ in range(repeat):
        plain.append(run_many(n, widget=False, store=backend))
        watched.append(run_many(n, widget=True, store=backend))

    def median(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    base = median(plain, "run_s")
    cpu = median(watched, "widget_cpu_s")
    print(f"dashboard over {n:,} instances, {store} store, {repeat} runs each (medians)")
    print(f"  run without dashboard     {base * 1000:8.1f} ms")
    print(f"  run with dashboard live   {median(watched, 'run_s') * 1000:8.1f} ms")
    print(
        f"  kernel-side widget cost   {cpu / base * 100:8.1f} % of the run without widget"
        f"  ({cpu * 1000:.1f} ms CPU; {median(watched, 'refreshes'):.0f} refreshes,"
        f" commit callbacks {median(watched, 'note_s') * 1000:.1f} ms)"
    )
    print(
        f"  dashboard_data            {median(plain, 'data_s') * 1000:8.1f} ms  "
        f"({plain[-1]['rows']:,} rows)"
    )
    print(
        f"  its aggregates and list   {median(plain, 'aggregates_s') * 1000:8.1f} ms"
        "  (counts, durations, first page: what it draws)"
    )
    print(f"  creating the dashboard    {median(plain, 'board_s') * 1000:8.1f} ms  (finished run)")
    last = plain[-1]
    figure_kib = len(json.dumps(last["figure"])) / 1024
    panel_kib = len(json.dumps(last["panel"], default=str)) / 1024
    print(
        f"  state sent                {figure_kib + panel_kib:8.1f} KiB"
        f"  (charts {figure_kib:.1f} KiB, panel {panel_kib:.1f} KiB)"
    )
    if any(r["errors"] for r in watched):
        print("  widget errors:", [r["errors"] for r in watched])
    if browser is not None:
        charts = chromium.draw_plotly(browser, last["figure"])
        panel = chromium.draw_widget(browser, "dashboard", last["panel"])
        print(
            f"  first draw in Chromium    {charts['ms'] + panel['ms']:8.1f} ms"
            f"  (charts {charts['ms']:.1f} ms, panel {panel['ms']:.1f} ms)"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="activities in the fan-out")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each variant")
    parser.add_argument(
        "--store", choices=[*STORES, "both"], default="both", help="the store to run on"
    )
    parser.add_argument(
        "--part", choices=["graph", "dashboard", "both"], default="both", help="what to measure"
    )
    parser.add_argument(
        "--instances", type=int, default=100_000, help="instances under the dashboard"
    )
    parser.add_argument(
        "--browser", action="store_true", help="also time the first draw in Chromium"
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        browser = None
        if args.browser:
            missing = chromium.available()
            if missing:
                parser.error(f"--browser: {missing}")
            browser = stack.enter_context(chromium.chromium())
        for store in STORES if args.store == "both" else [args.store]:
            if args.part in ("graph", "both"):
                measure(args.n, args.repeat, store, browser)
            if args.part in ("dashboard", "both"):
                measure_dashboard(args.instances, args.repeat, store, browser)


if __name__ == "__main__":
    main()
