"""What the dashboard draws, as aggregates computed in DuckDB.

On a store with SQL tables the queries run on its ``instances`` table, so that nothing per
instance crosses into Python but the rows listed; on another store (the memory store, a
copy of a remote engine's instances) they run on a DataFrame of the engine's records.
Either way a view over 100,000 instances is a few small results: counts per workflow and
status, the duration quartiles per workflow, a page of the instance list and its count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.runtime._seam import EngineView, LocalEngine
from wfkit.store import QueryableStore

if TYPE_CHECKING:
    import duckdb

ALL = "all"
FINISHED = [s.name for s in WorkflowStatus if s.is_terminal]
#: Finished instances up to which the duration chart is sent every point (beyond, the
#: quartiles per workflow and the outliers, at most ``MAX_OUTLIERS``).
MAX_POINTS = 5_000
MAX_OUTLIERS = 1_000
COLUMNS = [
    "instance_id",
    "workflow",
    "status",
    "created_at",
    "updated_at",
    "duration_s",
    "parent_id",
]

# The store's instances as the dashboard's columns, in the order they were created.
_STORE_BOARD = f"""
SELECT instance_id, name AS workflow, status, created_at, last_updated_at AS updated_at,
       CASE WHEN status IN ({", ".join(f"'{s}'" for s in FINISHED)})
            THEN epoch(last_updated_at - created_at) END AS duration_s,
       parent_instance_id AS parent_id, rowid AS ord
FROM instances"""
_FRAME_BOARD = "SELECT *, row_number() OVER () AS ord FROM records_frame"


def dashboard_data(
    records: list[InstanceRecord], *, include_children: bool = False
) -> pd.DataFrame:
    """One row per instance: ``instance_id``, ``workflow``, ``status``, ``created_at``,
    ``updated_at``, ``duration_s`` (virtual, for finished instances) and ``parent_id``."""
    kept = [r for r in records if include_children or r.parent_instance_id is None]
    created = [r.created_at for r in kept]
    updated = [r.last_updated_at for r in kept]
    return pd.DataFrame(
        {
            "instance_id": [r.instance_id for r in kept],
            "workflow": [r.name for r in kept],
            "status": [r.status.name for r in kept],
            "created_at": created,
            "updated_at": updated,
            "duration_s": [
                (u - c).total_seconds() if r.status.is_terminal else None
                for r, c, u in zip(kept, created, updated, strict=True)
            ],
            "parent_id": [r.parent_instance_id for r in kept],
        },
        columns=COLUMNS,
    )


@dataclass(eq=False)
class Durations:
    """The duration chart: every point (``x``, ``y``) when there are few, else the
    quartiles and fences per workflow and the outliers as points."""

    x: list[str] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    boxes: pd.DataFrame | None = None  # workflow, q1, median, q3, lowerfence, upperfence

    def same(self, other: Durations) -> bool:
        if self.x != other.x or self.y != other.y:
            return False
        if self.boxes is None or other.boxes is None:
            return self.boxes is other.boxes
        return self.boxes.equals(other.boxes)


@dataclass
class Board:
    """Counts per workflow and status, median durations, and the duration chart."""

    counts: pd.DataFrame  # workflow, status, n
    medians: pd.DataFrame  # workflow, median_duration_s
    durations: Durations
    total: int


class BoardQueries:
    """The dashboard's queries on the instances of one engine."""

    def __init__(self, engine: EngineView, *, include_children: bool):
        self._engine = engine
        self._include_children = include_children
        store = engine.store if isinstance(engine, LocalEngine) else None
        self._store = store if isinstance(store, QueryableStore) else None
        self._con: duckdb.DuckDBPyConnection | None = None

    def frame(self) -> pd.DataFrame:
        """Every instance shown, one row each (:func:`dashboard_data`)."""
        return dashboard_data(self._engine.records(), include_children=self._include_children)

    def _query(self, query: str, params: Sequence[object] = ()) -> pd.DataFrame:
        where = "" if self._include_children else " WHERE parent_id IS NULL"
        if self._store is not None:
            board = f"SELECT * FROM ({_STORE_BOARD}){where}"
            return self._store.sql(f"WITH board AS ({board}) {query}", list(params))
        import duckdb

        if self._con is None:
            self._con = duckdb.connect()
        self._con.register("records_frame", self.frame())
        board = f"SELECT * FROM ({_FRAME_BOARD}){where}"
        return self._con.execute(f"WITH board AS ({board}) {query}", list(params)).df()

    def board(self) -> Board:
        counts = self._query(
            "SELECT workflow, status, count(*) AS n FROM board GROUP BY ALL ORDER BY ALL"
        )
        medians = self._query(
            "SELECT workflow, median(duration_s) AS median_duration_s, "
            "count(duration_s) AS finished FROM board GROUP BY workflow ORDER BY workflow"
        )
        finished = int(medians["finished"].sum()) if not medians.empty else 0
        return Board(counts, medians, self._durations(finished), int(counts["n"].sum()))

    def _durations(self, finished: int) -> Durations:
        if finished <= MAX_POINTS:
            points = self._query(
                "SELECT workflow, duration_s FROM board WHERE duration_s IS NOT NULL ORDER BY ord"
            )
            return Durations(list(points["workflow"]), [float(v) for v in points["duration_s"]])
        boxes = self._query(_BOXES)
        outliers = self._query(_OUTLIERS, [MAX_OUTLIERS])
        return Durations(
            list(outliers["workflow"]), [float(v) for v in outliers["duration_s"]], boxes
        )

    def page(self, workflow: str, status: str, limit: int) -> tuple[pd.DataFrame, int]:
        """The first ``limit`` instances (oldest first) of ``workflow`` with ``status``
        (``"all"`` for any), and how many there are."""
        where = "WHERE ($1 = 'all' OR workflow = $1) AND ($2 = 'all' OR status = $2)"
        rows = self._query(
            f"SELECT instance_id, workflow, status, created_at, duration_s FROM board {where} "
            "ORDER BY ord LIMIT $3",
            [workflow, status, limit],
        )
        count = self._query(f"SELECT count(*) AS n FROM board {where}", [workflow, status])
        return rows, int(count["n"].iloc[0])


_QUARTILES = """quartiles AS (
    SELECT workflow, quantile_cont(duration_s, 0.25) AS q1, median(duration_s) AS median,
           quantile_cont(duration_s, 0.75) AS q3
    FROM board WHERE duration_s IS NOT NULL GROUP BY workflow),
fenced AS (
    SELECT board.*, q1, median, q3,
           duration_s < q1 - 1.5 * (q3 - q1) OR duration_s > q3 + 1.5 * (q3 - q1) AS outlier
    FROM board JOIN quartiles USING (workflow) WHERE duration_s IS NOT NULL)"""
_BOXES = f""", {_QUARTILES}
SELECT workflow, any_value(q1) AS q1, any_value(median) AS median, any_value(q3) AS q3,
       min(duration_s) FILTER (WHERE NOT outlier) AS lowerfence,
       max(duration_s) FILTER (WHERE NOT outlier) AS upperfence
FROM fenced GROUP BY workflow ORDER BY workflow"""
_OUTLIERS = f""", {_QUARTILES}
SELECT workflow, duration_s FROM fenced WHERE outlier
ORDER BY abs(duration_s - median) DESC LIMIT $1"""
