"""Widgets: the time-travel :class:`Player` and the determinism check's
:class:`DivergenceView` (anywidget; everything they load ships with wfkit)."""

from __future__ import annotations

import linecache
import pathlib
from typing import Any

import anywidget
import traitlets

from wfkit.inspect._replay_results import ReplayResult, SourceLine
from wfkit.timetravel._cursor import Cursor

#: The player's bundles, built from ``js/src/player.js`` and ``player.css`` (they carry the
#: execution graph's drawing and the widgets' theme).
STATIC = pathlib.Path(__file__).parent / "static"
#: History rows sent around the current position.
ROWS = 200
#: Longest history whose graph the player draws by default (a graph is rebuilt at each
#: step, and a history this long can hold tens of thousands of tasks).
GRAPH_EVENTS = 20_000


def _graph(frame: Any) -> dict[str, Any]:
    try:
        graph = frame.graph
    except Exception as exc:  # the view must not break on a graph it cannot build
        return {"error": f"no graph at this position ({type(exc).__name__}: {exc})"}
    try:
        from wfkit.inspect._graph_model import layout
    except ImportError:
        return graph
    if "steps" in graph and "instance" in graph:
        return layout(dict(graph))
    return graph


class Player(anywidget.AnyWidget):
    """Steps through an instance's replay: slider, step / back / play buttons (keyboard:
    arrows step, Home and End jump, space plays), the orchestrator's source with the
    current line highlighted, its locals, the tasks pending, the history with the
    current event highlighted, and the execution graph as it stood.

    Args:
        cursor: the cursor to drive (``open_cursor(...)``); the player moves it.
        interval: milliseconds between steps while playing.
        height: height of the graph drawing, in pixels.
        graph: draw the execution graph at each step (default: for histories of up to
            :data:`GRAPH_EVENTS` events).
    """

    _esm = STATIC / "player.js"
    _css = STATIC / "player.css"

    view = traitlets.Unicode("player").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    length = traitlets.Int(0).tag(sync=True)
    frame = traitlets.Dict().tag(sync=True)
    source = traitlets.Dict().tag(sync=True)
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    rows_start = traitlets.Int(0).tag(sync=True)
    graph = traitlets.Dict().tag(sync=True)
    interval = traitlets.Int(400).tag(sync=True)
    height = traitlets.Int(360).tag(sync=True)

    def __init__(
        self,
        cursor: Cursor,
        *,
        interval: int = 400,
        height: int = 360,
        graph: bool | None = None,
        **kwargs: Any,
    ):
        super().__init__(interval=interval, height=height, **kwargs)
        self.cursor = cursor
        self._with_graph = graph if graph is not None else len(cursor) <= GRAPH_EVENTS
        self._source_key: Any = None
        self.length = len(cursor)
        name = cursor.workflow_name or "workflow"
        self.title = f"{name} · {cursor.instance_id}" if cursor.instance_id else name
        self._show(cursor.position)
        self.observe(self._moved, names="position")

    # ------------------------------------------------------------------ moving
    def goto(self, n: int) -> None:
        self.position = max(0, min(len(self.cursor) - 1, n))

    def step(self) -> None:
        self.goto(self.position + 1)

    def back(self) -> None:
        self.goto(self.position - 1)

    def _moved(self, change: dict[str, Any]) -> None:
        n = max(0, min(len(self.cursor) - 1, int(change["new"])))
        if n != change["new"]:
            self.position = n
            return
        self._show(n)

    def _show(self, n: int) -> None:
        if not len(self.cursor):
            return
        frame = self.cursor.goto(n)
        with self.hold_sync():
            if self.position != n:
                self.position = n
            self.frame = frame.to_json()
            source = self.cursor.source(frame)
            key = (source.file, source.function, source.start) if source else None
            if key != self._source_key:
                self._source_key = key
                self.source = source.to_json() if source else {}
            start, size = self.rows_start, len(self.rows)
            low = start + 20 if start > 0 else 0
            high = start + size - 20 if start + size < len(self.cursor) else start + size
            if not size or not low <= n < high:
                start = max(0, n - ROWS // 2)
                self.rows = self.cursor.to_json(start, start + ROWS)
                self.rows_start = start
            if self._with_graph:
                self.graph = _graph(frame)
            elif not self.graph:
                self.graph = {"error": "the graph is off for this long history: player(graph=True)"}


def _context(line: SourceLine | None, what: str, radius: int = 4) -> dict[str, Any]:
    out: dict[str, Any] = {"what": what}
    if line is None:
        return out
    out.update(file=line.file, line=line.line)
    if not line.line:
        return out
    lines = linecache.getlines(line.file) if line.file else []
    here = lines[line.line - 1].strip() if 0 < line.line <= len(lines) else None
    if lines and here is not None and (line.code is None or here == line.code):
        start = max(1, line.line - radius)
        stop = min(len(lines), line.line + radius)
        out.update(start=start, lines=[text.rstrip("\r\n") for text in lines[start - 1 : stop]])
    elif line.code is not None:
        out.update(start=line.line, lines=[line.code])
    return out


class DivergenceView(anywidget.AnyWidget):
    """A determinism check's result: the recorded call and what the current code does,
    side by side, each with its line of code highlighted in context."""

    _esm = STATIC / "player.js"
    _css = STATIC / "player.css"

    view = traitlets.Unicode("divergence").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    divergence = traitlets.Dict().tag(sync=True)

    def __init__(self, result: ReplayResult, **kwargs: Any):
        super().__init__(**kwargs)
        self.result = result
        what = result.path or f"instance {result.instance_id}"
        self.title = f"determinism check · {result.workflow or 'workflow'} · {what}"
        d = result.divergence
        data: dict[str, Any] = {"ok": result.ok, "error": result.error}
        if result.ok:
            data["summary"] = f"the code replays all {result.events} events of the history"
        if d is not None:
            data.update(
                message=d.message,
                kind=d.kind,
                index=d.index,
                event_id=d.event_id,
                recorded=_context(d.recorded_line, d.recorded),
                current=_context(d.current_line, d.current),
            )
        self.divergence = data
