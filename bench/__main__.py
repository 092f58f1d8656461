"""``python -m bench``: wfkit against its peers, medians of several runs, one table.

Peers run only when importable (``pip install -e '.[bench]'``): Dapr's engine driven as
its sidecar drives it, Temporal's time-skipping test server and Replayer, DBOS on SQLite.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import tempfile
import time
from pathlib import Path

from . import _wfkit
from ._table import Row, median_time, render

WFKIT_STORES = ["memory", "duckdb memory", "duckdb file"]


def _median(fn, repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--no-peers", action="store_true", help="wfkit only")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    r = 1 if args.quick else args.repeat
    sizes = {
        "chain": [100] if args.quick else [1_000, 10_000],
        "fan": [100] if args.quick else [1_000, 10_000, 100_000],
        "timers": [100] if args.quick else [10_000],
        "replay": [100] if args.quick else [1_000, 33_334],
    }
    stores = _wfkit.Stores()
    labels = [label for label in WFKIT_STORES if stores.supported(label)]
    rows: list[Row] = []

    def add(workload: str, n: int, engine: str, seconds: float, note: str = "") -> None:
        rows.append(Row(workload, n, engine, seconds, seconds / max(n, 1) * 1e6, note))
        print(render(rows[-1:]).splitlines()[-1], flush=True)

    print(render([]))
    for n in sizes["chain"]:
        for label in labels:
            if label != "memory" and n > 10_000:
                continue
            add(
                "chain",
                n,
                f"wfkit {label}",
                _median(lambda: _wfkit.run_one(stores.make(label), _wfkit.chain, n), r),
            )
    for n in sizes["fan"]:
        for label in labels:
            if label != "memory" and n > 10_000:
                continue
            add(
                "fan-out/fan-in",
                n,
                f"wfkit {label}",
                _median(lambda: _wfkit.run_one(stores.make(label), _wfkit.fan_out, n), r),
            )
    for n in sizes["timers"]:
        add(
            "7-day timers (instances)",
            n,
            "wfkit memory",
            _median(lambda: _wfkit.run_timers(stores.make("memory"), n), r),
        )
    for label in labels:
        add(
            "escalation, 7-day timeout",
            1,
            f"wfkit {label}",
            _median(lambda: _wfkit.escalation(stores.make(label)), max(r, 5)),
        )
    histories = {n: _wfkit.recorded_chain_history(n) for n in sizes["replay"]}
    for n, events in histories.items():
        add(
            "cold replay (activities)",
            n,
            "wfkit memory",
            _median(lambda: _wfkit.cold_replay(events), r),
            f"{len(events)} events",
        )

    if not args.no_peers and _has("dapr.ext.workflow"):
        from . import _dapr

        for n in [100] if args.quick else [100, 300, 1_000]:
            if ("chain", n) not in {(w, k) for w, k, *_ in ((x.workload, x.n) for x in rows)}:
                add(
                    "chain",
                    n,
                    "wfkit memory",
                    _median(lambda: _wfkit.run_one("memory", _wfkit.chain, n), r),
                )
            add(
                "chain",
                n,
                "Dapr engine (driver)",
                median_time(lambda: _dapr.run("chain", n), 1 if n >= 1_000 else r),
                "replays the history every step",
            )
        for n in [100] if args.quick else [1_000]:
            add(
                "fan-out/fan-in",
                n,
                "Dapr engine (driver)",
                median_time(lambda: _dapr.run("fan_out", n), r),
                "all results in one step",
            )
        add(
            "escalation, 7-day timeout",
            1,
            "Dapr engine (driver)",
            median_time(lambda: _dapr.run("escalation", json.dumps({"amount": 5000})), 5),
            "executor only, no sidecar",
        )

    if not args.no_peers and _has("temporalio") and _has_temporal_server():
        from . import _temporal

        bench = _temporal.TemporalBench()
        try:
            add(
                "escalation, 7-day timeout",
                1,
                "Temporal time-skipping",
                _median(lambda: bench.run(_temporal.Escalation, {"amount": 5000}), max(r, 5)),
                "test server process",
            )
            for n in [100] if args.quick else [1_000]:
                add(
                    "chain",
                    n,
                    "Temporal time-skipping",
                    _median(lambda: bench.run(_temporal.Chain, n), 1),
                )
                add(
                    "fan-out/fan-in",
                    n,
                    "Temporal time-skipping",
                    _median(lambda: bench.run(_temporal.FanOut, n), 1),
                )
            for n in [100] if args.quick else [1_000]:
                history = bench.history_of_chain(n)
                add(
                    "cold replay (activities)",
                    n,
                    "Temporal Replayer",
                    _median(lambda: bench.replay(history), r),
                    f"{len(history.events)} events",
                )
        finally:
            bench.close()

    if not args.no_peers and _has("dbos"):
        from . import _dbos

        with tempfile.TemporaryDirectory() as tmp:
            count = iter(range(1_000_000))
            db = lambda: str(Path(tmp) / f"dbos{next(count)}.sqlite")  # noqa: E731
            for n in [100] if args.quick else [1_000]:
                add("chain", n, "DBOS SQLite", _median(lambda: _dbos.measure("chain", n, db()), 1))
                add(
                    "fan-out/fan-in",
                    n,
                    "DBOS SQLite",
                    _median(lambda: _dbos.measure("fan", n, db()), 1),
                )

    print()
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    _ = time


def _has_temporal_server() -> bool:
    from ._temporal import server_path

    return server_path() is not None


if __name__ == "__main__":
    main()
