"""Timeline: a Gantt of one instance's activities, timers, event waits and child
workflows, on virtual time (or wall time), one bar per attempt (plotly)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from wfkit.core._task import CompletableTask
from wfkit.core._time import utc_now
from wfkit.inspect._replay import INNER_TIMERS, Entry, ReplayedInstance, source_for
from wfkit.widgets._live import engine_of

#: Bar colours per status (each bar's status is also in its legend entry and hover text).
COLOURS = {
    "completed": "#2e8b3d",
    "failed": "#d32f2f",
    "running": "#1e6fd9",
    "waiting": "#8e44ad",
    "retry wait": "#b0b4ba",
    "timed out": "#8d5a2b",
    "cancelled": "#6b6b6b",
}
KINDS = ("activity", "timer", "event", "child")


def open_view(runtime: Any, instance_id: str) -> ReplayedInstance:
    """The tasks and indexed history of an instance: the engine's executor while it runs,
    else a replay of its stored history."""
    engine = engine_of(runtime)
    if engine.record(instance_id) is None:
        raise KeyError(f"no workflow instance with id {instance_id!r}")
    view = ReplayedInstance(
        instance_id,
        engine.registry.workflow,
        orchestration=engine.orchestration(instance_id),
        source=source_for(engine.store, instance_id),
    )
    view.update()
    return view


def _at(entry: Entry, time: str) -> datetime:
    return entry.wall if time == "wall" else entry.ts


def timeline_rows(view: ReplayedInstance, *, time: str = "virtual") -> list[dict[str, Any]]:
    """One row per bar: each attempt of an activity or child workflow, each timer and
    event wait, and the wait before each retry. Keys: ``task`` (the row's label), ``kind``,
    ``name``, ``attempt``, ``start``, ``end`` (None while open), ``status``."""
    if time not in ("virtual", "wall"):
        raise ValueError("time must be 'virtual' or 'wall'")
    rows: list[dict[str, Any]] = []
    for position, task in enumerate(view.tasks):
        if task.kind not in KINDS or view.origin(task) in INNER_TIMERS:
            continue
        label = f"{task.name or task.kind} · t{position}"
        if task.kind == "event":
            rows.extend(_event_row(view, task, label, time))
        else:
            rows.extend(_attempt_rows(view, task, label, time))
    return rows


def _row(
    task: CompletableTask, label: str, kind: str, attempt: int, start: Any, end: Any, status: str
) -> dict[str, Any]:
    return {
        "task": label,
        "kind": kind,
        "name": task.name,
        "attempt": attempt,
        "start": start,
        "end": end,
        "status": status,
    }


def _event_row(
    view: ReplayedInstance, task: CompletableTask, label: str, time: str
) -> list[dict[str, Any]]:
    """The bar of an event wait: from the wait to the event, its timeout or the end."""
    began = view.wait_started(task)
    if began is None:
        return []
    received = view.event_received(task)
    timer_id = began.task_id if began.kind == "TimerCreated" else None
    timeout = view.closed.get(timer_id) if timer_id is not None else None
    ended: Entry | None = received
    if received is not None:
        status = "completed"
    elif timeout is not None:  # the guarding timer fired first
        status, ended = "timed out", timeout
    elif view.finished is not None:
        status, ended = "cancelled", view.finished
    else:
        status = "waiting"
    end = _at(ended, time) if ended is not None else None
    return [_row(task, label, "event", 1, _at(began, time), end, status)]


def _attempt_rows(
    view: ReplayedInstance, task: CompletableTask, label: str, time: str
) -> list[dict[str, Any]]:
    """A bar per attempt of a call or a timer, with the retry waits between them."""
    rows: list[dict[str, Any]] = []
    previous_end: datetime | None = None
    for attempt, task_id in enumerate(view.task_ids(task), 1):
        scheduled = view.scheduled.get(task_id)
        if scheduled is None:
            continue
        closed = view.closed.get(task_id)
        start = _at(scheduled, time)
        if previous_end is not None:
            rows.append(_row(task, label, "retry wait", attempt, previous_end, start, "retry wait"))
        if closed is None:
            status = "waiting" if task.kind == "timer" else "running"
            if task.is_complete or view.finished is not None:
                status = "cancelled"
                closed = view.finished
        elif closed.kind in ("TaskFailed", "ChildWorkflowInstanceFailed"):
            status = "failed"
        else:
            status = "completed"
        end = _at(closed, time) if closed is not None else None
        rows.append(_row(task, label, task.kind, attempt, start, end, status))
        previous_end = end
    return rows


def timeline(
    runtime: Any,
    instance_id: str,
    *,
    time: str = "virtual",
    max_tasks: int = 200,
    widget: bool = False,
) -> Any:
    """A plotly Gantt of the instance's tasks on virtual time (``time="wall"``: wall time).

    Every attempt of a retried call is its own bar on the call's row, failed attempts in
    red and the waits between them in grey. Tasks that take no virtual time (activities
    usually) are drawn as a marker. At most ``max_tasks`` rows are drawn (the title says
    when some are left out). ``widget=True`` returns a ``FigureWidget``.
    """
    import plotly.graph_objects as go

    engine = engine_of(runtime)
    view = open_view(runtime, instance_id)
    rows = timeline_rows(view, time=time)
    now = engine.clock.now() if time == "virtual" else utc_now()
    labels = list(dict.fromkeys(r["task"] for r in rows))
    kept = set(labels[:max_tasks])
    rows = [r for r in rows if r["task"] in kept]
    fig = go.FigureWidget() if widget else go.Figure()
    for status, colour in COLOURS.items():
        chosen = [r for r in rows if r["status"] == status]
        if chosen:
            _add_bars(fig, status, colour, chosen, now)
    record = engine.record(instance_id)
    title = f"{record.name if record else ''} {instance_id} · {time} time"
    if len(labels) > max_tasks:
        title += f" · first {max_tasks:,} of {len(labels):,} tasks"
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "y": 0.98, "yanchor": "top"},
        barmode="overlay",
        height=max(260, min(900, 90 + 24 * len(kept))),
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
        xaxis={"type": "date", "title": f"{time} time (UTC)"},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": labels},
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
    )
    return fig


def _add_bars(fig: Any, status: str, colour: str, chosen: list[dict[str, Any]], now: Any) -> None:
    """The bars of one status; a task that took no time is drawn as a marker."""
    starts = [r["start"] for r in chosen]
    ends = [r["end"] or max(now, r["start"]) for r in chosen]
    widths = [(e - s) / timedelta(milliseconds=1) for s, e in zip(starts, ends, strict=True)]
    hover = [
        f"{r['kind']} {r['name']!s} · attempt {r['attempt']}<br>{status}<br>"
        f"{r['start'].isoformat(sep=' ')} → "
        f"{r['end'].isoformat(sep=' ') if r['end'] else 'open'}"
        for r in chosen
    ]
    fig.add_bar(
        name=status,
        orientation="h",
        y=[r["task"] for r in chosen],
        base=starts,
        x=widths,
        marker={"color": colour, "pattern": {"shape": "/" if status == "retry wait" else ""}},
        hovertext=hover,
        hoverinfo="text",
        legendgroup=status,
    )
    instant = [r for r, width in zip(chosen, widths, strict=True) if width == 0]
    if instant:
        fig.add_scatter(
            name=status,
            mode="markers",
            x=[r["start"] for r in instant],
            y=[r["task"] for r in instant],
            marker={"color": colour, "symbol": "diamond", "size": 9},
            hovertext=[h for h, width in zip(hover, widths, strict=True) if width == 0],
            hoverinfo="text",
            legendgroup=status,
            showlegend=False,
        )
