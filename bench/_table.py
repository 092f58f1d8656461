"""Timing and the printed table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    workload: str
    n: int
    engine: str
    seconds: float
    per_item_us: float
    note: str = ""


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``fn`` (each call sets up and runs once)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def render(rows: list[Row]) -> str:
    """A plain-text table; ratios compare each peer with wfkit (memory) at equal N."""
    base = {(r.workload, r.n): r.seconds for r in rows if r.engine == "wfkit memory"}
    header = f"{'workload':<28} {'N':>7} {'engine':<26} {'median s':>10} {'us/item':>10} {'x wfkit':>9}  note"
    lines = [header, "-" * len(header)]
    for r in rows:
        ref = base.get((r.workload, r.n))
        ratio = f"{r.seconds / ref:9.1f}" if ref and r.engine != "wfkit memory" else " " * 9
        lines.append(
            f"{r.workload:<28} {r.n:>7} {r.engine:<26} {r.seconds:>10.4f} "
            f"{r.per_item_us:>10.1f} {ratio}  {r.note}"
        )
    return "\n".join(lines)
