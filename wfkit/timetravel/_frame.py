"""What a time-travel cursor shows at one position: a :class:`Frame`, and the source
of the code it stands in (:class:`SourceCode`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import CodeType
from typing import Any

from wfkit.core import _serde
from wfkit.core._history import FailureDetails, HistoryEvent, event_to_json
from wfkit.inspect._stepper import PendingTask
from wfkit.timetravel._snapshot import MAX_CHARS, jsonable

#: Sources of code objects kept (:func:`source_of`) before the cache starts over.
_SOURCES_KEPT = 256


# --------------------------------------------------------------------------- code
@dataclass(frozen=True)
class SourceCode:
    """The source of one function, for a code pane."""

    file: str
    """The file it was read from (a notebook cell has a file of its own)."""
    function: str
    """The function's name."""
    start: int
    """Line number of :attr:`lines` [0] in :attr:`file`."""
    lines: tuple[str, ...]
    """The function's lines, without their line ends."""

    def line(self, number: int) -> str | None:
        """The text of line ``number`` (a number in the file), if it is in the function."""
        i = number - self.start
        return self.lines[i] if 0 <= i < len(self.lines) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "function": self.function,
            "start": self.start,
            "lines": list(self.lines),
        }


_SOURCES: dict[CodeType, SourceCode] = {}


def source_of(code: CodeType) -> SourceCode:
    """The source of a code object (empty if it cannot be found)."""
    cached = _SOURCES.get(code)
    if cached is not None:
        return cached
    try:
        lines, start = inspect.getsourcelines(code)
    except (OSError, TypeError):
        lines, start = [], code.co_firstlineno
    source = SourceCode(
        code.co_filename,
        code.co_name,
        max(start, 1),
        tuple(line.rstrip("\r\n") for line in lines),
    )
    if len(_SOURCES) > _SOURCES_KEPT:
        _SOURCES.clear()
    _SOURCES[code] = source
    return source


# --------------------------------------------------------------------------- frames
@dataclass(frozen=True, eq=False)
class Frame:
    """The state of an instance's replay right after one history event was applied."""

    index: int
    """Position of :attr:`event` in the history (0 is the first event)."""
    event: HistoryEvent
    """The history event just applied."""
    time: datetime
    """Virtual time the code sees (``ctx.current_utc_datetime``, naive UTC)."""
    status: str
    """How the replay stands: PENDING (not started), RUNNING, SUSPENDED, COMPLETED,
    FAILED, TERMINATED or CONTINUED_AS_NEW."""
    file: str | None
    """Source file of the orchestrator code."""
    line: int | None
    """Line the orchestrator is suspended at (its ``yield``), or the line it returned or
    raised at once it has ended; None before it starts."""
    function: str | None
    """Name of the function :attr:`line` is in (a generator delegated to with
    ``yield from`` is followed to the innermost one)."""
    locals: dict[str, Any]
    """The orchestrator's local variables as JSON data (tasks described in one line,
    unencodable values as their ``repr``)."""
    pending: tuple[PendingTask, ...]
    """Tasks and event waits not complete, oldest first (the first ``MAX_PENDING``)."""
    pending_count: int
    """How many tasks and event waits are not complete."""
    custom_status: Any
    """The custom status the code set (decoded when it is JSON)."""
    output: Any = None
    """The workflow's result, once COMPLETED."""
    failure: FailureDetails | None = None
    """Why the workflow failed, once FAILED."""
    error: str | None = None
    """Why the replay could not follow the history (edited code), if it could not."""
    _graph: Callable[[], dict[str, Any]] | None = field(default=None, repr=False)
    _code: CodeType | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        """The event's kind, e.g. ``TaskCompleted``."""
        return self.event.kind

    @property
    def event_id(self) -> int:
        """The event's id (the task id of a scheduling event, -1 for the others)."""
        return self.event.event_id

    @property
    def timestamp(self) -> datetime:
        """When the event was recorded (virtual time)."""
        return self.event.timestamp

    @property
    def code(self) -> CodeType | None:
        """The code object :attr:`line` is in (None before the code starts)."""
        return self._code

    @property
    def graph(self) -> dict[str, Any]:
        """The execution graph as it stood at this position (see
        :func:`execution_graph`); built on first use."""
        if "graph" not in self._cache:
            self._cache["graph"] = self._graph() if self._graph is not None else {}
        return self._cache["graph"]

    def to_json(self) -> dict[str, Any]:
        """The frame as JSON data (without the graph)."""
        failure = self.failure
        return {
            "index": self.index,
            "kind": self.kind,
            "event_id": self.event_id,
            "name": self.event.name,
            "timestamp": self.timestamp.isoformat(),
            "time": self.time.isoformat(),
            "status": self.status,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "locals": self.locals,
            "pending": [p.to_json() for p in self.pending],
            "pending_count": self.pending_count,
            "custom_status": self.custom_status,
            "output": self.output,
            "failure": (
                {"type": failure.error_type, "message": failure.message} if failure else None
            ),
            "error": self.error,
            "event": shown_event_json(self.event),
        }

    def __repr__(self) -> str:
        where = f"{self.function}:{self.line}" if self.line is not None else "not started"
        return f"<Frame {self.index} {self.kind} at {where} {self.status}>"


def shown_event_json(event: HistoryEvent) -> dict[str, Any]:
    """An event as JSON data (``event_to_json``), long payloads cut for showing."""
    out = event_to_json(event)
    for key, value in out.items():
        if isinstance(value, str) and len(value) > MAX_CHARS:
            out[key] = value[: MAX_CHARS - 1] + "…"
    return out


def decode_payload(text: str | None) -> Any:
    """A payload's value as JSON data (its text if it is not JSON)."""
    if text is None:
        return None
    try:
        return jsonable(_serde.decode(text))
    except ValueError:
        return text
