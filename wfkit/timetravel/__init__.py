"""Time travel: step through any instance's replay, fork it, check new code against it.

* :func:`open_cursor` opens a :class:`Cursor` over an instance of a runtime (running or
  finished), a store, a history file or a history exported from Dapr; each position is a
  frozen :class:`Frame` (event, locals, source line, pending tasks, custom status,
  virtual time, execution graph). ``cursor.player()`` shows it as a widget.
* :func:`fork` starts a new instance from a history up to a scheduling event, with a new
  input, replaced results or event payloads, or edited code; :func:`compare` puts two
  histories side by side. ``DaprWorkflowClient.rerun_workflow_from_event`` is a fork.
* :func:`check_replay` replays a recorded history against current code and reports the
  first divergence (:class:`ReplayResult`); :func:`check_histories` and
  :func:`assert_histories_replay` do it for a folder of files :func:`save_history` wrote.
"""

from __future__ import annotations

import importlib
from typing import Any

from wfkit.inspect._execution_graph import execution_graph, simple_graph
from wfkit.inspect._histories import (
    History,
    RecordedLine,
    history_document,
    load_history,
    save_history,
)
from wfkit.inspect._replay_results import Divergence, SourceLine
from wfkit.inspect._stepper import PendingTask
from wfkit.timetravel._check import (
    ReplayResult,
    assert_histories_replay,
    check_histories,
    check_replay,
)
from wfkit.timetravel._cursor import Cursor, open_cursor
from wfkit.timetravel._fork import ForkPointError, compare, compare_rows, fork, fork_points
from wfkit.timetravel._frame import Frame, SourceCode

_WIDGETS = {"Player": "._player", "DivergenceView": "._player"}

__all__ = [
    "Cursor",
    "Divergence",
    "DivergenceView",
    "ForkPointError",
    "Frame",
    "History",
    "PendingTask",
    "Player",
    "RecordedLine",
    "ReplayResult",
    "SourceCode",
    "SourceLine",
    "assert_histories_replay",
    "check_histories",
    "check_replay",
    "compare",
    "compare_rows",
    "execution_graph",
    "fork",
    "fork_points",
    "history_document",
    "load_history",
    "open_cursor",
    "save_history",
    "simple_graph",
]


def __getattr__(name: str) -> Any:
    module = _WIDGETS.get(name)
    if module is None:
        raise AttributeError(f"module 'wfkit.timetravel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
