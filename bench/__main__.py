"""``python -m bench``: wfkit against its peers, medians of several runs, one table.

Peers run when importable (``pip install -e '.[bench]'``): Dapr's engine driven as its
sidecar drives it, Temporal's time-skipping test server and Replayer, DBOS on SQLite.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
from pathlib import Path

from . import _wfkit
from ._table import HEADER, REFERENCE, Row, median_of, median_time, render, render_row

#: ``default`` is what ``WorkflowRuntime()`` uses (DuckDB in memory); ``file`` a DuckDB file.
WFKIT_STORES = ["default", "memory", "file"]


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, workload: str, n: int, engine: str, seconds: float, note: str = "") -> None:
        row = Row(workload, n, engine, seconds, seconds / n * 1e6, note)
        self.rows.append(row)
        ref = next(
            (
                r.seconds
                for r in self.rows
                if r.engine == REFERENCE and (r.workload, r.n) == (workload, n)
            ),
            None,
        )
        print(render_row(row, ref if engine != REFERENCE else None), flush=True)

    def has(self, workload: str, n: int) -> bool:
        return any((r.workload, r.n, r.engine) == (workload, n, REFERENCE) for r in self.rows)


def run_wfkit(report: Report, sizes: dict[str, list[int]], repeat: int) -> None:
    stores = _wfkit.Stores()
    labels = [label for label in WFKIT_STORES if stores.supported(label)]
    for workload, workflow in (("chain", _wfkit.chain), ("fan-out/fan-in", _wfkit.fan_out)):
        for n in sizes[workload]:
            for label in labels if n <= 10_000 else ["default", "memory"]:
                seconds = median_of(
                    lambda s=label, m=n, w=workflow: _wfkit.run_one(stores.make(s), w, m),
                    repeat=repeat,
                )
                report.add(workload, n, f"wfkit {label}", seconds)
    n = sizes["chain"][-1]
    report.add(
        "first sql() after a chain",
        n,
        "wfkit default",
        median_of(_wfkit.first_sql_after, ":memory:", _wfkit.chain, n, repeat=repeat),
        "writes the rows held back",
    )
    for n in sizes["schedule"]:
        for started in (False, True):
            report.add(
                "schedule + start" if started else "schedule (not started)",
                n,
                "wfkit default",
                median_of(
                    lambda m=n, go=started: _wfkit.schedule_many(":memory:", m, started=go),
                    repeat=repeat,
                ),
                "until every instance waits on its timer" if started else "",
            )
    for n in sizes["timers"]:
        for label in ("default", "memory"):
            report.add(
                "7-day timers (instances)",
                n,
                f"wfkit {label}",
                median_of(_wfkit.run_timers, stores.make(label), n, repeat=repeat),
            )
    instances, steps = sizes["file chains"]
    report.add(
        f"{steps}-step chains on a file",
        instances,
        "wfkit file",
        median_of(
            lambda: _wfkit.chains_on_file(stores.make("file"), instances, steps), repeat=repeat
        ),
        "a durable commit per turn, shared by new instances",
    )
    for label in labels:
        seconds = median_of(
            lambda s=label: _wfkit.escalation(stores.make(s)), repeat=max(repeat, 5)
        )
        report.add("escalation, 7-day timeout", 1, f"wfkit {label}", seconds)
    for n in sizes["replay"]:
        events = _wfkit.recorded_chain_history(n)
        report.add(
            "cold replay (activities)",
            n,
            REFERENCE,
            median_of(_wfkit.cold_replay, events, repeat=repeat),
            f"{len(events)} events",
        )


def run_dapr(report: Report, quick: bool, repeat: int) -> None:
    from . import _dapr

    for n in [100] if quick else [100, 300, 1_000]:
        if not report.has("chain", n):
            report.add(
                "chain",
                n,
                REFERENCE,
                median_of(_wfkit.run_one, ":memory:", _wfkit.chain, n, repeat=repeat),
            )
        report.add(
            "chain",
            n,
            "Dapr engine (driver)",
            median_time(_dapr.run, "chain", n, repeat=1 if n >= 1_000 else repeat),
            "replays the history every step",
        )
    for n in [100] if quick else [1_000]:
        report.add(
            "fan-out/fan-in",
            n,
            "Dapr engine (driver)",
            median_time(_dapr.run, "fan_out", n, repeat=repeat),
            "all results in one step",
        )
    report.add(
        "escalation, 7-day timeout",
        1,
        "Dapr engine (driver)",
        median_time(_dapr.run, "escalation", json.dumps({"amount": 5000}), repeat=5),
        "executor only, no sidecar",
    )


def run_temporal(report: Report, quick: bool, repeat: int) -> None:
    from . import _temporal

    bench = _temporal.TemporalBench()
    try:
        report.add(
            "escalation, 7-day timeout",
            1,
            "Temporal time-skipping",
            median_of(bench.run, _temporal.Escalation, {"amount": 5000}, repeat=max(repeat, 5)),
            "separate test-server process",
        )
        n = 100 if quick else 1_000
        report.add(
            "chain", n, "Temporal time-skipping", median_of(bench.run, _temporal.Chain, n, repeat=1)
        )
        report.add(
            "fan-out/fan-in",
            n,
            "Temporal time-skipping",
            median_of(bench.run, _temporal.FanOut, n, repeat=1),
        )
        history = bench.history_of_chain(n)
        report.add(
            "cold replay (activities)",
            n,
            "Temporal Replayer",
            median_of(bench.replay, history, repeat=repeat),
            f"{len(history.events)} events",
        )
        if not report.has("cold replay (activities)", n):
            events = _wfkit.recorded_chain_history(n)
            report.add(
                "cold replay (activities)",
                n,
                REFERENCE,
                median_of(_wfkit.cold_replay, events, repeat=repeat),
                f"{len(events)} events",
            )
    finally:
        bench.close()


def run_dbos(report: Report, quick: bool, sizes: dict[str, list[int]]) -> None:
    from . import _dbos

    n = 100 if quick else 1_000
    with tempfile.TemporaryDirectory() as tmp:
        report.add(
            "chain", n, "DBOS SQLite", _dbos.measure("chain", n, str(Path(tmp) / "a.sqlite"))
        )
        report.add(
            "fan-out/fan-in", n, "DBOS SQLite", _dbos.measure("fan", n, str(Path(tmp) / "b.sqlite"))
        )
        instances, steps = sizes["file chains"]
        report.add(
            f"{steps}-step chains on a file",
            instances,
            "DBOS SQLite",
            _dbos.measure("chains", instances, str(Path(tmp) / "c.sqlite"), steps),
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--no-peers", action="store_true", help="wfkit only")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    sizes = {
        "chain": [100] if args.quick else [1_000, 10_000],
        "fan-out/fan-in": [100] if args.quick else [1_000, 10_000, 100_000],
        "timers": [100] if args.quick else [10_000],
        "schedule": [1_000] if args.quick else [100_000],
        "file chains": [20, 10] if args.quick else [1_000, 10],
        "replay": [100] if args.quick else [1_000, 33_334],
    }
    report = Report()
    print(HEADER)
    run_wfkit(report, sizes, repeat)
    if not args.no_peers:
        if _has("dapr.ext.workflow"):
            run_dapr(report, args.quick, repeat)
        if _has("temporalio") and _has("bench._temporal"):
            from ._temporal import server_path

            if server_path():
                run_temporal(report, args.quick, repeat)
        if _has("dbos"):
            run_dbos(report, args.quick, sizes)
    print()
    print(render(report.rows))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in report.rows], indent=1))


if __name__ == "__main__":
    main()
