"""What a determinism check reports: a :class:`ReplayResult`, with the first
:class:`Divergence` between a history and the code, quoting both sides' lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SourceLine:
    """A line of workflow code."""

    file: str | None
    """The source file (None when unknown)."""
    line: int | None
    """The line number (None when unknown)."""
    code: str | None = None
    """The text of the line, stripped (None when it cannot be read)."""

    def __str__(self) -> str:
        where = f"{Path(self.file).name if self.file else '?'}:{self.line or '?'}"
        return f"{where}: {self.code}" if self.code else where

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "code": self.code}


@dataclass(frozen=True)
class Divergence:
    """Where a history and the current code part ways."""

    kind: str
    """``changed``: the code makes another call than the one recorded at that task id;
    ``missing``: the code makes no call where the history records one; ``extra``: the
    code makes a call the history does not have; ``outcome``: the code ends otherwise
    than the history records (or does not end)."""
    index: int
    """Position of the history event where the divergence shows."""
    event_id: int
    """That event's id: the task id of the recorded call (-1 for other events)."""
    recorded: str
    """What the history records there, e.g. ``call_activity('charge') with task id 2``."""
    current: str
    """What the current code does instead."""
    recorded_line: SourceLine | None
    """The line of the recorded call in the code that recorded the history."""
    current_line: SourceLine | None
    """The line of the current code: where it makes its call, or where it stands."""
    message: str
    """All of the above in a sentence."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "index": self.index,
            "event_id": self.event_id,
            "recorded": self.recorded,
            "current": self.current,
            "recorded_line": self.recorded_line.to_json() if self.recorded_line else None,
            "current_line": self.current_line.to_json() if self.current_line else None,
            "message": self.message,
        }


@dataclass(frozen=True)
class ReplayResult:
    """The outcome of replaying one recorded history against workflow code."""

    ok: bool
    """True when the code replays the whole history and ends as it recorded."""
    instance_id: str | None
    """The instance the history belongs to."""
    workflow: str | None
    """The workflow's name."""
    events: int
    """Number of events in the history."""
    divergence: Divergence | None = None
    """The first divergence (None when ``ok``)."""
    error: str | None = None
    """Why the history could not be checked at all (unreadable, no code for it)."""
    path: str | None = None
    """The history file, for :func:`check_histories`."""

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        what = self.path or f"instance {self.instance_id!r}"
        head = f"{what} (workflow {self.workflow!r}, {self.events} events)"
        if self.error is not None:
            return f"{head}: not checked: {self.error}"
        d = self.divergence
        if d is None:
            return f"{head}: replays"
        lines = [f"{head}: {d.message}", f"  recorded: {d.recorded}"]
        if d.recorded_line is not None:
            lines.append(f"            {d.recorded_line}")
        lines.append(f"  now:      {d.current}")
        if d.current_line is not None:
            lines.append(f"            {d.current_line}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "instance_id": self.instance_id,
            "workflow": self.workflow,
            "events": self.events,
            "divergence": self.divergence.to_json() if self.divergence else None,
            "error": self.error,
            "path": self.path,
        }
