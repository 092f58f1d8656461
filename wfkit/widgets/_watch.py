"""watch(): the usual set of widgets for one instance, in one call: anywidgets in a column
(an ipywidgets ``VBox``, which is how anywidgets are put together)."""

from __future__ import annotations

import html
import pathlib
from typing import Any, TypedDict

import anywidget
import ipywidgets as w
import traitlets

from wfkit.store import Batch
from wfkit.widgets._clock_panel import ClockPanel
from wfkit.widgets._controls import ControlsWidget
from wfkit.widgets._graph import GraphWidget
from wfkit.widgets._history_table import HistoryTable
from wfkit.widgets._live import PolledEngine, engine_of, hub_for

STATIC = pathlib.Path(__file__).parent / "static"


class FollowView(TypedDict):
    """How an instance is read: ``state`` (polling, retrying, finished, stopped, purged,
    unreachable, unreadable, error), what happened, and when (UTC, ``HH:MM:SS``)."""

    state: str
    message: str
    at: str


class FollowStatus(anywidget.AnyWidget):
    """One line saying how an instance of a remote engine is being read: polling, or why
    it stopped (finished, purged, the engine unreachable, an unreadable history).

    ``value`` is the line as HTML (for tests and logs); the browser draws it from
    ``follow_view``."""

    _esm = STATIC / "follow_status.js"
    _css = STATIC / "follow_status.css"

    #: the state shown (:class:`FollowView`), empty before the first read
    follow_view = traitlets.Dict().tag(sync=True)

    def __init__(self, engine: PolledEngine, instance_id: str, interval: float):
        super().__init__()
        self._engine = engine
        self.instance_id = instance_id
        self._shown: Any = None
        self._unfollow = engine.follow(instance_id, interval)
        self._hub = hub_for(engine)
        self.refresh()
        self._hub.add(self)

    @property
    def state(self) -> str | None:
        current = self._engine.follow_state(self.instance_id)
        return current.state if current is not None else None

    @property
    def value(self) -> str:
        view = self.follow_view
        if not view:
            return ""
        state, message = html.escape(view["state"]), html.escape(view["message"])
        return (
            f"<span class='wfkit-follow-{state}'><b>{state}</b> · {message}"
            f" <span class='wfkit-muted-text'>({view['at']} UTC)</span></span>"
        )

    def note(self, batch: Batch) -> None:
        pass  # the state is read in due()

    def due(self) -> bool:
        return self._engine.follow_state(self.instance_id) is not self._shown

    def refresh(self) -> None:
        current = self._engine.follow_state(self.instance_id)
        self._shown = current
        if current is None:
            return
        view: FollowView = {
            "state": current.state,
            "message": current.message,
            "at": current.at.strftime("%H:%M:%S"),
        }
        self.follow_view = dict(view)

    def close(self) -> None:
        self._unfollow()
        self._hub.remove(self)
        super().close()


class TimelineButton(ControlsWidget):
    """The button that draws the timeline of the instance below it (anywidget)."""

    _esm = STATIC / "timeline_button.js"
    _css = STATIC / "timeline_button.css"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.button = self.add_control("timeline_button", "button")
        self.message = self.add_control("message", "html", "")


class Watch(w.VBox):
    """The execution graph, the clock and events panel and the history table of one
    instance, and a button that draws its timeline. On a remote engine (a ``Connection``)
    a status line on top says how the instance is polled."""

    def __init__(self, runtime: Any, instance_id: str, *, interval: float = 1.0, **kwargs: Any):
        engine = engine_of(runtime)
        self.status: FollowStatus | None = None
        if isinstance(engine, PolledEngine):
            self.status = FollowStatus(engine, instance_id, interval)
        self.graph = GraphWidget(runtime, instance_id)
        self.clock = ClockPanel(runtime, instance_id)
        self.history = HistoryTable(runtime, instance_id, page_size=10)
        self.timeline_bar = TimelineButton()
        self.timeline_button = self.timeline_bar.button
        #: where the timeline (a plotly FigureWidget) is shown
        self.timeline_output = w.Box()
        self._runtime = runtime
        self.timeline_button.on_click(lambda _b: self._show_timeline_or_say_why())
        children: list[Any] = [] if self.status is None else [self.status]
        super().__init__(
            [
                *children,
                self.graph,
                self.clock,
                self.history,
                self.timeline_bar,
                self.timeline_output,
            ],
            **kwargs,
        )
        self.add_class("wfkit-watch")

    def show_timeline(self, *, time: str = "virtual") -> None:
        """Draw (or redraw) the timeline of the instance the graph shows."""
        from wfkit.widgets._timeline import timeline

        figure = timeline(self._runtime, self.graph.instance_id, time=time, widget=True)
        for old in self.timeline_output.children:
            old.close()
        self.timeline_output.children = (figure,)

    def _show_timeline_or_say_why(self) -> None:
        try:
            self.show_timeline()
        except Exception as exc:  # shown under the button: a click has no traceback
            error = html.escape(f"{type(exc).__name__}: {exc}", quote=False)
            self.timeline_bar.message.value = f"<span class='wfkit-error-text'>{error}</span>"
        else:
            self.timeline_bar.message.value = ""

    def _display_(self) -> Any:
        """How marimo shows it: marimo draws anywidgets but not ipywidgets boxes, so the
        panels are stacked with marimo's own layout (without the timeline button, whose
        figure would go in a box)."""
        import marimo as mo

        parts = (self.status, self.graph, self.clock, self.history)
        return mo.vstack([mo.ui.anywidget(part) for part in parts if part is not None])

    def close(self) -> None:
        parts = (self.status, self.graph, self.clock, self.history, self.timeline_bar)
        for child in (*parts, *self.timeline_output.children):
            if child is not None:
                child.close()
        self.timeline_output.close()
        super().close()


def watch(runtime: Any, instance_id: str, *, interval: float = 1.0) -> Watch:
    """Show one instance: its live execution graph, the clock and events panel (acting on
    it), its history table and, on request, its timeline. On a ``Connection`` to a remote
    engine the instance is read again every ``interval`` seconds until it finishes or
    the widget closes."""
    return Watch(runtime, instance_id, interval=interval)
