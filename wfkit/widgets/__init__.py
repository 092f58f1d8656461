"""Notebook widgets: live execution graph, clock and events panel, history table,
timeline and dashboard. Each loads anywidget, ipywidgets or plotly only when first used."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ClockPanel": "._clock_panel",
    "GraphWidget": "._graph",
    "HistoryTable": "._history_table",
    "ProgressBar": "._progress",
    "ReplayedInstance": "wfkit.inspect._replay",
    "dashboard": "._dashboard",
    "dashboard_data": "._dashboard",
    "graph_model": "wfkit.inspect._graph_model",
    "history_page": "._history_table",
    "layout": "wfkit.inspect._graph_model",
    "node_detail": "wfkit.inspect._graph_model",
    "run_many": "._progress",
    "timeline": "._timeline",
    "timeline_rows": "._timeline",
    "watch": "._watch",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wfkit.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
