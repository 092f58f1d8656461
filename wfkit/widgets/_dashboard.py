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

from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.store import Batch
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
MAX_LIST = 100
#: Seconds between two refreshes of a dashboard.
REFRESH_SECONDS = 1.0
STATIC = pathlib.Path(__file__).parent / "static"


def dashboard_data(
    records: list[InstanceRecord], *, include_children: bool = False
) -> pd.DataFrame:
    """One row per instance: ``instance_id``, ``workflow``, ``status``, ``created_at``,
    ``updated_at``, ``duration_s`` (virtual, for finished instances) and ``parent_id``."""
    rows = [
        {
            "instance_id": r.instance_id,
            "workflow": r.name,
            "status": r.status.name,
            "created_at": r.created_at,
            "updated_at": r.last_updated_at,
            "duration_s": (r.last_updated_at - r.created_at).total_seconds()
            if r.status.is_terminal
            else None,
            "parent_id": r.parent_instance_id,
        }
        for r in records
        if include_children or r.parent_instance_id is None
    ]
    columns = [
        "instance_id",
        "workflow",
        "status",
        "created_at",
        "updated_at",
        "duration_s",
        "parent_id",
    ]
    return pd.DataFrame(rows, columns=columns)


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


def board_view(data: pd.DataFrame, stats: pd.DataFrame, shown: pd.DataFrame) -> BoardView:
    """What the dashboard panel draws: the summary of ``stats`` and the first rows of
    ``shown`` (the instances the filters keep) out of ``data``."""
    listed = min(len(shown), MAX_LIST)
    note = f"{len(shown):,} of {len(data):,} instances" + (
        f" (first {listed:,} listed)" if len(shown) > listed else ""
    )
    return {"summary": _summary_rows(stats), "note": note, "rows": _list_rows(shown)}


def _list_text(view: BoardView) -> str:
    lines = [view["note"]]
    lines += [" · ".join(str(v) for v in row.values()) for row in view["rows"]]
    return "\n".join(lines)


def _figure(data: pd.DataFrame, stats: pd.DataFrame) -> Any:
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
    _fill(fig, data, stats)
    fig.update_layout(
        barmode="stack",
        height=300,
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        legend={"orientation": "h", "y": -0.2},
        clickmode="event",
    )
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", row=1, col=2)
    return fig


def _fill(fig: Any, data: pd.DataFrame, stats: pd.DataFrame) -> None:
    import plotly.graph_objects as go

    workflows = list(stats["workflow"]) if not stats.empty else []
    traces = []
    for status, colour in STATUS_COLOURS.items():
        counts = [
            int(stats.loc[stats.workflow == wf_, status].iloc[0]) if status in stats else 0
            for wf_ in workflows
        ]
        if any(counts):
            traces.append(
                (
                    go.Bar(
                        name=status, x=workflows, y=counts, marker_color=colour, legendgroup=status
                    ),
                    1,
                )
            )
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
    finished = data.dropna(subset=["duration_s"])
    traces.append(
        (
            go.Box(
                name="duration",
                x=finished["workflow"],
                y=finished["duration_s"],
                marker_color="#1e6fd9",
                showlegend=False,
                boxpoints="outliers",
            ),
            3,
        )
    )
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
        self._include_children = include_children
        self._lock = threading.RLock()
        self._dirty = False
        self._last_refresh = 0.0
        self.data = dashboard_data(self._engine.records(), include_children=include_children)
        self.stats = summary(self.data)
        self.figure = _figure(self.data, self.stats)
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
        data = self.data
        if self.workflow.value != ALL:
            data = data[data.workflow == self.workflow.value]
        if self.status.value != ALL:
            data = data[data.status == self.status.value]
        return data

    def _update_filters(self) -> None:
        workflows = [ALL, *sorted(self.data.workflow.unique())]
        statuses = [ALL, *[s.name for s in WorkflowStatus if s.name in set(self.data.status)]]
        for toggle, options in ((self.workflow, workflows), (self.status, statuses)):
            if list(toggle.options) != options:
                value = toggle.value
                toggle.options = tuple(options)
                toggle.value = value if value in options else ALL

    def _show_list(self) -> None:
        self.panel.board_view = dict(board_view(self.data, self.stats, self.filtered()))

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
        return self._dirty and time.monotonic() - self._last_refresh >= REFRESH_SECONDS

    def refresh(self) -> None:
        with self._lock:
            self._dirty = False
            self._last_refresh = time.monotonic()
            data = dashboard_data(self._engine.records(), include_children=self._include_children)
            if data.equals(self.data):
                return
            self.data = data
            self.stats = summary(data)
            _fill(self.figure, data, self.stats)
            self._connect_clicks()
            self._update_filters()
            self._show_list()

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
