"""Dashboard: instances by status and workflow, success rates and durations (plotly
FigureWidget), beside a panel (anywidget) with the summary per workflow, the filter buttons
and the instance list; clicking a bar, or a filter button, filters the list."""

from __future__ import annotations

import pathlib
import threading
import time
from typing import Any, TypedDict, cast

import ipywidgets as w
import pandas as pd
import traitlets

from wfkit.core._state import WorkflowStatus
from wfkit.store import Batch
from wfkit.widgets._board_queries import Board, BoardQueries, Durations, dashboard_data
from wfkit.widgets._controls import ControlsWidget, View
from wfkit.widgets._live import engine_of, hub_for

ALL = "all"
STATUS_COLOURS = {
    WorkflowStatus.PENDING.name: "#8a8f98",
    WorkflowStatus.RUNNING.name: "#1e6fd9",
    WorkflowStatus.SUSPENDED.name: "#8e44ad",
    WorkflowStatus.COMPLETED.name: "#2e8b3d",
    WorkflowStatus.FAILED.name: "#d32f2f",
    WorkflowStatus.TERMINATED.name: "#6b6b6b",
}
_FINISHED = [s.name for s in WorkflowStatus if s.is_terminal]
__all__ = ["Dashboard", "dashboard", "dashboard_data", "summary"]
MAX_LIST = 100
#: Seconds between two refreshes of a dashboard.
REFRESH_SECONDS = 1.0
STATIC = pathlib.Path(__file__).parent / "static"


def summary(data: pd.DataFrame) -> pd.DataFrame:
    """Per workflow: instances per status, finished, success rate and median duration."""
    if data.empty:
        return pd.DataFrame(columns=["workflow", "instances", "finished", "success_rate"])
    counts = data.pivot_table(
        index="workflow", columns="status", values="instance_id", aggfunc="count", fill_value=0
    )
    finished = sum(counts.get(s, 0) for s in _FINISHED)
    out = pd.DataFrame(
        {
            "instances": counts.sum(axis=1),
            "finished": finished,
            "completed": counts.get(WorkflowStatus.COMPLETED.name, 0),
        }
    )
    out["success_rate"] = (out["completed"] / out["finished"]).where(out["finished"] > 0)
    out["median_duration_s"] = data.groupby("workflow")["duration_s"].median()
    for status in counts.columns:
        out[status] = counts[status]
    return out.reset_index()


def board_summary(board: Board) -> pd.DataFrame:
    """:func:`summary` of the aggregates the store computed."""
    if board.counts.empty:
        return pd.DataFrame(columns=["workflow", "instances", "finished", "success_rate"])
    counts = board.counts.pivot_table(
        index="workflow", columns="status", values="n", aggfunc="sum", fill_value=0
    )
    finished = sum(counts.get(s, 0) for s in _FINISHED)
    out = pd.DataFrame(
        {
            "instances": counts.sum(axis=1),
            "finished": finished,
            "completed": counts.get(WorkflowStatus.COMPLETED.name, 0),
        }
    )
    out["success_rate"] = (out["completed"] / out["finished"]).where(out["finished"] > 0)
    out["median_duration_s"] = board.medians.set_index("workflow")["median_duration_s"]
    for status in counts.columns:
        out[status] = counts[status]
    return out.reset_index()


class SummaryRow(TypedDict):
    """One workflow in the dashboard's summary (rates and durations as text)."""

    workflow: str
    instances: int
    finished: int
    success_rate: str
    median_duration: str


class InstanceRow(TypedDict):
    """One instance in the dashboard's list."""

    instance_id: str
    workflow: str
    status: str
    created: str
    duration: str


class BoardView(TypedDict):
    """What the dashboard panel draws besides its filters."""

    summary: list[SummaryRow]
    note: str  # how many instances the filters keep
    rows: list[InstanceRow]


def _seconds_text(seconds: Any) -> str:
    return "" if pd.isna(seconds) else f"{seconds:,.1f} s"


def _summary_rows(stats: pd.DataFrame) -> list[SummaryRow]:
    return [
        {
            "workflow": str(r.workflow),
            "instances": int(r.instances),
            "finished": int(r.finished),
            "success_rate": "" if pd.isna(r.success_rate) else f"{r.success_rate:.0%}",
            "median_duration": _seconds_text(r.median_duration_s),
        }
        for r in stats.itertuples()
    ]


def _list_rows(data: pd.DataFrame) -> list[InstanceRow]:
    return [
        {
            "instance_id": r.instance_id,
            "workflow": r.workflow,
            "status": r.status,
            "created": r.created_at.isoformat(sep=" "),
            "duration": _seconds_text(r.duration_s),
        }
        for r in data.head(MAX_LIST).itertuples()
    ]


def board_view(stats: pd.DataFrame, rows: pd.DataFrame, shown: int, total: int) -> BoardView:
    """What the dashboard panel draws: the summary of ``stats`` and ``rows``, the first
    of the ``shown`` instances the filters keep out of ``total``."""
    listed = min(shown, MAX_LIST)
    note = f"{shown:,} of {total:,} instances" + (
        f" (first {listed:,} listed)" if shown > listed else ""
    )
    return {"summary": _summary_rows(stats), "note": note, "rows": _list_rows(rows)}


def _list_text(view: BoardView) -> str:
    lines = [view["note"]]
    lines += [" · ".join(str(v) for v in row.values()) for row in view["rows"]]
    return "\n".join(lines)


def _figure(stats: pd.DataFrame, durations: Durations) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = go.FigureWidget(
        make_subplots(
            rows=1,
            cols=3,
            subplot_titles=("instances by status", "success rate", "duration (virtual s)"),
            horizontal_spacing=0.08,
        )
    )
    _fill(fig, stats, durations)
    fig.update_layout(
        barmode="stack",
        height=300,
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        legend={"orientation": "h", "y": -0.2},
        clickmode="event",
    )
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", row=1, col=2)
    return fig


def _traces(stats: pd.DataFrame, durations: Durations) -> list[tuple[Any, int]]:
    """The charts' traces and the column of each: bars per status, success rates, and
    the durations (every point when few, else quartiles per workflow and outliers)."""
    import plotly.graph_objects as go

    workflows = list(stats["workflow"]) if not stats.empty else []
    traces: list[tuple[Any, int]] = []
    for status, colour in STATUS_COLOURS.items():
        counts = [int(n) for n in stats[status]] if status in stats else []
        if any(counts):
            bar = go.Bar(
                name=status, x=workflows, y=counts, marker_color=colour, legendgroup=status
            )
            traces.append((bar, 1))
    rates = [None if pd.isna(v) else float(v) for v in stats.get("success_rate", [])]
    traces.append(
        (
            go.Bar(
                name="success rate",
                x=workflows,
                y=rates,
                text=[f"{v:.0%}" if v is not None else "" for v in rates],
                marker_color="#2e8b3d",
                showlegend=False,
            ),
            2,
        )
    )
    box = {"name": "duration", "marker_color": "#1e6fd9", "showlegend": False}
    boxes = durations.boxes
    if boxes is None:
        traces.append((go.Box(x=durations.x, y=durations.y, boxpoints="outliers", **box), 3))
        return traces
    columns = ("q1", "median", "q3", "lowerfence", "upperfence")
    quartiles = {c: [float(v) for v in boxes[c]] for c in columns}
    traces.append((go.Box(x=list(boxes["workflow"]), boxpoints=False, **quartiles, **box), 3))
    if durations.x:
        outliers = go.Scatter(x=durations.x, y=durations.y, mode="markers", hoverinfo="x+y", **box)
        traces.append((outliers, 3))
    return traces


def _fill(fig: Any, stats: pd.DataFrame, durations: Durations) -> None:
    """Draw the traces; when only their values changed, update them in place (the
    browser gets what changed, not the figure again)."""
    traces = _traces(stats, durations)
    if [(t.type, t.name) for t in fig.data] == [(t.type, t.name) for t, _ in traces]:
        with fig.batch_update():
            for drawn, (trace, _) in zip(fig.data, traces, strict=True):
                changes = {k: v for k, v in trace.to_plotly_json().items() if drawn[k] != trace[k]}
                if changes:
                    drawn.update(changes)
        return
    with fig.batch_update():
        fig.data = ()
        for trace, col in traces:
            fig.add_trace(trace, row=1, col=col)


class DashboardPanel(ControlsWidget):
    """The dashboard's summary per workflow, filters and instance list (anywidget): the
    filters are controls (``workflow``, ``status``), the rest is drawn from ``board_view``."""

    _esm = STATIC / "dashboard.js"
    _css = STATIC / "dashboard.css"

    #: the summary, the count and the listed rows (:class:`BoardView`)
    board_view = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.workflow = self.add_control("workflow", "toggles", ALL, options=(ALL,))
        self.status = self.add_control("status", "toggles", ALL, options=(ALL,))


class Dashboard(w.VBox):
    """Instances by status and workflow, success rates and durations (plotly), and the
    panel with the summary, filter buttons and the instance list (anywidget)."""

    def __init__(self, runtime: Any, *, include_children: bool = False, live: bool = True):
        self._engine = engine_of(runtime)
        self._queries = BoardQueries(self._engine, include_children=include_children)
        self._lock = threading.RLock()
        self._dirty = False
        self._last_refresh = 0.0
        self._cost = 0.0  # seconds the last refresh took
        self._board = self._queries.board()
        self.stats = board_summary(self._board)
        self.figure = _figure(self.stats, self._board.durations)
        self.panel = DashboardPanel()
        self.workflow, self.status = self.panel.workflow, self.panel.status
        self.list = View(lambda: _list_text(cast(BoardView, self.panel.board_view)))
        self.workflow.observe(lambda _c: self._show_list(), names="value")
        self.status.observe(lambda _c: self._show_list(), names="value")
        self._connect_clicks()
        self._update_filters()
        self._show_list()
        super().__init__([self.figure, self.panel])
        self.add_class("wfkit-dashboard")
        self._hub = hub_for(self._engine) if live else None
        if self._hub is not None:
            self._hub.add(self)

    @property
    def data(self) -> pd.DataFrame:
        """Every instance shown, one row each (:func:`dashboard_data`)."""
        return self._queries.frame()

    def _connect_clicks(self) -> None:
        for trace in self.figure.data:
            trace.on_click(self._on_click)

    def _on_click(self, trace: Any, points: Any, _state: Any) -> None:
        if not points.point_inds:
            return
        x = points.xs[0]
        if x in self.workflow.options:
            self.workflow.value = x
        if trace.name in STATUS_COLOURS and trace.name in self.status.options:
            self.status.value = trace.name

    def filtered(self) -> pd.DataFrame:
        """The rows of :attr:`data` the filters keep."""
        data = self.data
        if self.workflow.value != ALL:
            data = data[data.workflow == self.workflow.value]
        if self.status.value != ALL:
            data = data[data.status == self.status.value]
        return data

    def _update_filters(self) -> None:
        counts = self._board.counts
        workflows = [ALL, *sorted(set(counts.workflow))]
        present = set(counts.status)
        statuses = [ALL, *[s.name for s in WorkflowStatus if s.name in present]]
        for toggle, options in ((self.workflow, workflows), (self.status, statuses)):
            if list(toggle.options) != options:
                value = toggle.value
                toggle.options = tuple(options)
                toggle.value = value if value in options else ALL

    def _show_list(self) -> None:
        rows, shown = self._queries.page(self.workflow.value, self.status.value, MAX_LIST)
        view = dict(board_view(self.stats, rows, shown, self._board.total))
        if view != self.panel.board_view:
            self.panel.board_view = view

    def _display_(self) -> Any:
        """How marimo shows it: marimo draws anywidgets but not ipywidgets boxes, so the
        charts and the panel are stacked with marimo's own layout."""
        import marimo as mo

        return mo.vstack([mo.ui.anywidget(self.figure), mo.ui.anywidget(self.panel)])

    # ------------------------------------------------------------------ live updates
    def note(self, batch: Batch) -> None:
        if batch.records or batch.purges:
            self._dirty = True

    def due(self) -> bool:
        # at most one refresh a second, and at most a tenth of the time spent refreshing
        wait = max(REFRESH_SECONDS, 10 * self._cost)
        return self._dirty and time.monotonic() - self._last_refresh >= wait

    def refresh(self) -> None:
        with self._lock:
            started = time.monotonic()
            self._dirty = False
            board = self._queries.board()
            stats = board_summary(board)
            if not (stats.equals(self.stats) and board.durations.same(self._board.durations)):
                _fill(self.figure, stats, board.durations)
                self._connect_clicks()
            self._board, self.stats = board, stats
            self._update_filters()
            self._show_list()
            self._last_refresh = time.monotonic()
            self._cost = self._last_refresh - started

    def close(self) -> None:
        if self._hub is not None:
            self._hub.remove(self)
        self.panel.close()
        super().close()


def dashboard(runtime: Any, *, include_children: bool = False, live: bool = True) -> Dashboard:
    """Instances by status and workflow, success rate and durations per workflow, and the
    instance list. Click a bar (or a filter button) to filter the list by workflow and
    status. Child workflow instances are left out unless ``include_children``."""
    return Dashboard(runtime, include_children=include_children, live=live)
