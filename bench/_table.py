"""Timing and the printed table."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Row:
    workload: str
    n: int
    engine: str
    seconds: float
    per_item_us: float
    note: str = ""


def median_of(fn: Callable[..., float], *args: Any, repeat: int) -> float:
    """Median of ``repeat`` calls of ``fn(*args)``, which returns the seconds it measured."""
    times = []
    for _ in range(repeat):
        gc.collect()  # a run starts from a collected heap (see median_time)
        times.append(fn(*args))
    return statistics.median(times)


def median_time(fn: Callable[..., object], *args: Any, repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``fn(*args)``. Each starts from a collected
    heap: what an earlier run left for the cyclic collector (a finished runtime, an
    engine's objects) is not the cost of the next one, which would otherwise pay for a
    pass over it at random."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


HEADER = (
    f"{'workload':<28} {'N':>7} {'engine':<26} {'median s':>10} {'us/item':>10} "
    f"{'x wfkit':>9}  note"
)


def render_row(row: Row, reference: float | None) -> str:
    ratio = f"{row.seconds / reference:9.1f}" if reference else " " * 9
    return (
        f"{row.workload:<28} {row.n:>7} {row.engine:<26} {row.seconds:>10.4f} "
        f"{row.per_item_us:>10.1f} {ratio}  {row.note}"
    )


#: The engine every other row is compared with: wfkit as ``WorkflowRuntime()`` makes it.
REFERENCE = "wfkit default"


def render(rows: list[Row]) -> str:
    """A plain-text table; ``x wfkit`` is each row's time over wfkit's (default store, DuckDB
    in memory) at equal N."""
    base = {(r.workload, r.n): r.seconds for r in rows if r.engine == REFERENCE}
    lines = [HEADER, "-" * len(HEADER)]
    for r in rows:
        reference = base.get((r.workload, r.n)) if r.engine != REFERENCE else None
        lines.append(render_row(r, reference))
    return "\n".join(lines)
