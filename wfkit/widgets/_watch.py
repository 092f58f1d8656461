"""watch(): the usual set of widgets for one instance, in one call."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from wfkit.store import Batch
from wfkit.widgets._clock_panel import ClockPanel
from wfkit.widgets._graph import GraphWidget
from wfkit.widgets._history_table import HistoryTable
from wfkit.widgets._live import PolledEngine, engine_of, hub_for

#: Colour of each state of a followed instance (a remote engine's).
_STATE_COLOURS = {
    "polling": "#2e7d32",
    "retrying": "#ef6c00",
    "finished": "#455a64",
    "stopped": "#455a64",
    "purged": "#ef6c00",
    "unreachable": "#d32f2f",
    "unreadable": "#d32f2f",
    "error": "#d32f2f",
}


class FollowStatus(w.HTML):
    """One line saying how an instance of a remote engine is being read: polling, or why
    it stopped (finished, purged, the engine unreachable, an unreadable history)."""

    def __init__(self, engine: PolledEngine, instance_id: str, interval: float):
        super().__init__()
        self.add_class("wfkit-follow-status")
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

    def note(self, batch: Batch) -> None:
        pass  # the state is read in due()

    def due(self) -> bool:
        return self._engine.follow_state(self.instance_id) is not self._shown

    def refresh(self) -> None:
        current = self._engine.follow_state(self.instance_id)
        self._shown = current
        if current is None:
            return
        colour = _STATE_COLOURS.get(current.state, "#455a64")
        when = current.at.strftime("%H:%M:%S")
        self.value = (
            f"<span class='wfkit-follow-{current.state}' style='color:{colour}'>"
            f"<b>{html.escape(current.state)}</b> · {html.escape(current.message)}"
            f" <span style='opacity:.6'>({when} UTC)</span></span>"
        )

    def close(self) -> None:
        self._unfollow()
        self._hub.remove(self)
        super().close()


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
        self.timeline_output = w.Output()
        self.timeline_button = w.Button(description="Show timeline", icon="bar-chart")
        self.timeline_button.add_class("wfkit-show-timeline")
        self._runtime = runtime
        self.timeline_button.on_click(lambda _b: self.show_timeline())
        children: list[Any] = [] if self.status is None else [self.status]
        super().__init__(
            [
                *children,
                self.graph,
                self.clock,
                self.history,
                self.timeline_button,
                self.timeline_output,
            ],
            **kwargs,
        )
        self.add_class("wfkit-watch")

    def show_timeline(self, *, time: str = "virtual") -> None:
        """Draw (or redraw) the timeline of the instance the graph shows."""
        from wfkit.widgets._timeline import timeline

        figure = timeline(self._runtime, self.graph.instance_id, time=time, widget=True)
        self.timeline_output.clear_output()
        with self.timeline_output:
            from IPython.display import display

            display(figure)

    def close(self) -> None:
        for child in (self.status, self.graph, self.clock, self.history):
            if child is not None:
                child.close()
        super().close()


def watch(runtime: Any, instance_id: str, *, interval: float = 1.0) -> Watch:
    """Show one instance: its live execution graph, the clock and events panel (acting on
    it), its history table and, on request, its timeline. On a ``Connection`` to a remote
    engine the instance is read again every ``interval`` seconds until it finishes or
    the widget closes."""
    return Watch(runtime, instance_id, interval=interval)
