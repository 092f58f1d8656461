"""run_many in a notebook: many instances with a progress bar (anywidget)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterable
from typing import Any, TypedDict

import anywidget
import traitlets

from wfkit.core._state import WorkflowState
from wfkit.runtime._many import Progress
from wfkit.runtime._many import run_many as _run_many
from wfkit.widgets._controls import View

STATIC = pathlib.Path(__file__).parent / "static"


class ProgressView(TypedDict):
    """What the browser draws: the bar (``value`` of ``max``, in ``style``) and its text."""

    value: int
    max: int
    style: str  # "", "success", "danger" or "warning"
    text: str


class BarView:
    """The bar as the Python side sees it, read as an ipywidgets ``IntProgress`` is."""

    def __init__(self, widget: ProgressBar):
        self._widget = widget

    @property
    def value(self) -> int:
        return self._widget.progress_view["value"]

    @property
    def max(self) -> int:
        return self._widget.progress_view["max"]

    @property
    def bar_style(self) -> str:
        return self._widget.progress_view["style"]


class ProgressBar(anywidget.AnyWidget):
    """A bar and a label that follow a :class:`~wfkit.runtime._many.Progress`.

    ``bar`` (``value``, ``max``, ``bar_style``) and ``label`` (``value``) read as the
    ipywidgets they stand for; the browser draws them from ``progress_view``."""

    _esm = STATIC / "progress.js"
    _css = STATIC / "progress.css"

    #: the bar and its text (:class:`ProgressView`)
    progress_view = traitlets.Dict().tag(sync=True)

    def __init__(self, total: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.bar = BarView(self)
        self.label = View(lambda: self.progress_view["text"])
        self.show(Progress(total, 0, 0, 0))

    def show(self, progress: Progress) -> None:
        style = self.progress_view.get("style", "")
        if progress.interrupted:
            style = "warning"
        elif progress.finished == progress.total:
            style = "danger" if progress.failed else "success"
        view: ProgressView = {
            "value": progress.finished,
            "max": max(progress.total, 1),
            "style": style,
            "text": progress.describe(),
        }
        self.progress_view = dict(view)


def run_many(
    runtime: Any, jobs: Iterable[tuple[Any, Any]], *, timeout_in_seconds: float = 0
) -> list[WorkflowState]:
    """Schedule one instance per ``(workflow, input)``, show a progress bar while they run,
    and return their final states in order. The kernel's stop button interrupts it: the
    bar says so, the instances already scheduled are stored and keep running.

    Args:
        runtime: the ``WorkflowRuntime``.
        jobs: pairs of a workflow (function or registered name) and its input.
        timeout_in_seconds: wall seconds to wait for each instance; 0 waits forever.
    """
    from IPython.display import display

    jobs = list(jobs)
    progress = ProgressBar(len(jobs))
    display(progress)
    return _run_many(
        runtime, jobs, on_progress=progress.show, timeout_in_seconds=timeout_in_seconds
    )
