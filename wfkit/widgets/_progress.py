"""run_many in a notebook: many instances with a progress bar (ipywidgets)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import ipywidgets as w

from wfkit.core._state import WorkflowState
from wfkit.runtime._many import Progress
from wfkit.runtime._many import run_many as _run_many
from wfkit.widgets._theme import theme_style


class ProgressBar(w.HBox):
    """A bar and a label that follow a :class:`~wfkit.runtime._many.Progress`."""

    def __init__(self, total: int, **kwargs: Any):
        self.bar = w.IntProgress(value=0, min=0, max=max(total, 1), layout=w.Layout(width="320px"))
        self.bar.add_class("wfkit-progress-bar")
        self.label = w.HTML()
        self.label.add_class("wfkit-progress-label")
        super().__init__([theme_style(), self.bar, self.label], **kwargs)
        self.add_class("wfkit-progress")
        self.show(Progress(total, 0, 0, 0))

    def show(self, progress: Progress) -> None:
        self.bar.value = progress.finished
        if progress.interrupted:
            self.bar.bar_style = "warning"
        elif progress.finished == progress.total:
            self.bar.bar_style = "danger" if progress.failed else "success"
        self.label.value = (
            f"<span style='margin-left:8px'>{html.escape(progress.describe())}</span>"
        )


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
