"""watch(): the usual set of widgets for one instance, in one call."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from ._clock_panel import ClockPanel
from ._graph import GraphWidget
from ._history_table import HistoryTable


class Watch(w.VBox):
    """The execution graph, the clock and events panel and the history table of one
    instance, and a button that draws its timeline."""

    def __init__(self, runtime: Any, instance_id: str, **kwargs: Any):
        self.graph = GraphWidget(runtime, instance_id)
        self.clock = ClockPanel(runtime, instance_id)
        self.history = HistoryTable(runtime, instance_id, page_size=10)
        self.timeline_output = w.Output()
        self.timeline_button = w.Button(description="Show timeline", icon="bar-chart")
        self.timeline_button.add_class("wfkit-show-timeline")
        self._runtime = runtime
        self.timeline_button.on_click(lambda _b: self.show_timeline())
        super().__init__(
            [
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
        from ._timeline import timeline

        figure = timeline(self._runtime, self.graph.instance_id, time=time, widget=True)
        self.timeline_output.clear_output()
        with self.timeline_output:
            from IPython.display import display

            display(figure)

    def close(self) -> None:
        for child in (self.graph, self.clock, self.history):
            child.close()
        super().close()


def watch(runtime: Any, instance_id: str) -> Watch:
    """Show one instance: its live execution graph, the clock and events panel (acting on
    it), its history table and, on request, its timeline."""
    return Watch(runtime, instance_id)
