"""Where a history comes from: a runtime, a store, a list of events or a history file.

History files (what :func:`save_history` writes and :func:`load_history` reads) are JSON::

    {
      "format": "wfkit-history",
      "version": 1,
      "instance_id": "order-1",
      "workflow": "order_workflow",          # the name it is registered under
      "status": "COMPLETED",                 # the instance's status when saved
      "origin": null,                        # or {"instance_id": ..., "event_id": ...}
      "source": {                            # the workflow code that made the decisions
        "file": "/path/to/workflows.py",
        "function": "order_workflow",
        "lines": {"2": {"line": 14, "code": "a = yield ctx.call_activity(...)"}}
      },
      "events": [ ... ]                      # Dapr's HistoryEvent protobuf JSON
    }

``events`` is a list of durabletask ``HistoryEvent`` objects in protobuf JSON, as Dapr
exports them (see :mod:`wfkit.interop.dapr`), so a file holding only that list (a
history exported from Dapr) is read as well. ``source.lines`` maps the position of each
decision event to the line of the workflow code that made it, so a determinism check
can quote the recorded code after the code has changed.
"""

from __future__ import annotations

import dataclasses
import json
import linecache
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from wfkit.core import _dapr_history as _dapr
from wfkit.core._gc import gc_paused
from wfkit.core._history import ExecutionStarted, HistoryEvent
from wfkit.core._state import InstanceRecord
from wfkit.inspect._workflow_code import code_of
from wfkit.runtime._seam import EngineView, engine_of, is_engine_source
from wfkit.store import HistoryStore, StoredEvent

FORMAT = "wfkit-history"
VERSION = 1


@dataclass(frozen=True)
class RecordedLine:
    """The line of workflow code that made a recorded decision."""

    line: int
    """Line number in :attr:`History.file`."""
    code: str | None = None
    """The text of that line when the history was saved (None if unknown)."""


@dataclass(frozen=True)
class History:
    """A history to replay: its events and what is known of the instance."""

    events: tuple[HistoryEvent, ...]
    """The events, oldest first."""
    instance_id: str | None = None
    """Id of the instance the history belongs to."""
    workflow: str | None = None
    """Name of the workflow (from ``ExecutionStarted``)."""
    record: InstanceRecord | None = None
    """The instance record, when the history comes from a runtime or a store."""
    wall_times: tuple[float, ...] | None = None
    """Wall-clock time each event was stored at (runtime and store histories)."""
    file: str | None = None
    """Source file of the workflow code that recorded the history (history files)."""
    lines: Mapping[int, RecordedLine] = field(default_factory=dict)
    """Event position -> recorded line of each decision (history files)."""
    lossy: bool = False
    """True for histories without payloads (a client's ``get_workflow_history``)."""
    path: str | None = None
    """The file it was read from."""
    origin: tuple[str, int] | None = None
    """(instance id, event id) a fork started from."""

    def stored(self) -> list[StoredEvent]:
        """The events as stored events (positions and wall times), for graph builders."""
        walls = self.wall_times or ()
        iid = self.instance_id or ""
        return [
            StoredEvent(iid, i, e, walls[i] if i < len(walls) else 0.0)
            for i, e in enumerate(self.events)
        ]


def workflow_name_of(events: Sequence[HistoryEvent]) -> str | None:
    for event in events:
        if isinstance(event, ExecutionStarted):
            return event.workflow_name
    return None


def _from_events(items: Sequence[Any], **known: Any) -> History:
    if all(isinstance(e, HistoryEvent) for e in items):
        events = tuple(items)
        return History(events, workflow=workflow_name_of(events), **known)
    if all(isinstance(e, StoredEvent) for e in items):
        events = tuple(s.event for s in items)
        instance_id = known.pop("instance_id", None) or (items[0].instance_id if items else None)
        return History(
            events,
            instance_id=instance_id,
            workflow=workflow_name_of(events),
            wall_times=tuple(s.wall_time for s in items),
            **known,
        )
    lossy = _dapr.is_workflow_history(items)
    events = tuple(_dapr.from_dapr(items))
    instance_id = known.pop("instance_id", None) or _dapr.instance_id_of(items)
    return History(
        events,
        instance_id=instance_id,
        workflow=workflow_name_of(events),
        lossy=lossy,
        **known,
    )


def _from_document(doc: Mapping[str, Any], path: str | None) -> History:
    if doc.get("format") != FORMAT:
        raise ValueError(
            f"{path or 'the document'} is not a wfkit history (format {doc.get('format')!r}); "
            "expected a wfkit-history object or a JSON list of Dapr HistoryEvent objects"
        )
    if int(doc.get("version", 1)) > VERSION:
        raise ValueError(
            f"{path or 'the document'} is a wfkit history of version {doc['version']}, "
            f"newer than this wfkit reads ({VERSION})"
        )
    source = doc.get("source") or {}
    lines = {
        int(k): RecordedLine(int(v["line"]), v.get("code"))
        for k, v in (source.get("lines") or {}).items()
    }
    origin = doc.get("origin")
    history = _from_events(
        list(doc.get("events") or []),
        instance_id=doc.get("instance_id"),
        file=source.get("file"),
        lines=lines,
        path=path,
        origin=(origin["instance_id"], int(origin["event_id"])) if origin else None,
    )
    if doc.get("workflow") and history.workflow is None:
        history = dataclasses.replace(history, workflow=doc["workflow"])
    return history


#: What :func:`load_history` reads: a history file's path, its JSON text (or bytes) or
#: parsed object, a list of events (wfkit's, stored, Dapr's JSON or messages, a client's
#: ``get_workflow_history`` output), or a :class:`History`.
HistoryInput = str | bytes | os.PathLike[str] | Mapping[str, Any] | Iterable[Any]


def load_history(source: HistoryInput | History) -> History:
    """Read a history: a history file (path), its JSON text or parsed object, a JSON
    list of Dapr ``HistoryEvent`` objects (or protobuf messages), wfkit events, stored
    events, or a client's ``get_workflow_history`` output."""
    if isinstance(source, History):
        return source
    with gc_paused():
        return _load(source)


def _load(source: HistoryInput) -> History:
    path: str | None = None
    data: Any = source  # a path becomes text, text becomes JSON data
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and not source.lstrip().startswith(("[", "{"))
    ):
        path = os.fspath(source)
        data = Path(path).read_text(encoding="utf-8")
    if isinstance(data, (str, bytes)):
        data = json.loads(data)
    if isinstance(data, Mapping):
        return _from_document(data, path)
    return _from_events(list(data), path=path)


# --------------------------------------------------------------------------- saving
def _code_text(file: str | None, line: int) -> str | None:
    if not file:
        return None
    text = linecache.getline(file, line)
    return text.strip() or None


def history_document(
    events: Sequence[HistoryEvent],
    *,
    instance_id: str | None,
    workflow: str | None,
    status: str | None = None,
    origin: tuple[str, int] | None = None,
    code: Any = None,
) -> dict[str, Any]:
    """The history-file object for ``events``; ``code`` (the workflow function that made
    the decisions) lets it quote the line of each decision."""
    code_obj = code_of(code) if code is not None else None
    file = code_obj.co_filename if code_obj is not None else None
    lines: dict[str, Any] = {}
    for i, event in enumerate(events):
        line = getattr(event, "line", None)
        if event.is_scheduling and line is not None:
            lines[str(i)] = {"line": line, "code": _code_text(file, line)}
    return {
        "format": FORMAT,
        "version": VERSION,
        "instance_id": instance_id,
        "workflow": workflow or workflow_name_of(events),
        "status": status,
        "origin": {"instance_id": origin[0], "event_id": origin[1]} if origin else None,
        "source": {
            "file": file,
            "function": code_obj.co_name if code_obj is not None else None,
            "lines": lines,
        },
        "events": _dapr.to_dapr_dicts(events, instance_id=instance_id),
    }


def save_history(runtime: object, instance_id: str, path: str | os.PathLike[str]) -> Path:
    """Write an instance's history to a history file; ``path`` may be a folder (an
    existing one, or a path without a suffix; the file is then ``<instance_id>.json``
    in it). Returns the file's path."""
    engine = engine_of(runtime)
    record = engine.require(instance_id)
    events = [s.event for s in engine.store.history(instance_id)]
    try:
        code = engine.workflow_code(instance_id, record.name)
    except Exception:
        code = None
    origin = (
        (record.origin_instance_id, record.origin_event_id)
        if record.origin_instance_id is not None and record.origin_event_id is not None
        else None
    )
    doc = history_document(
        events,
        instance_id=instance_id,
        workflow=record.name,
        status=record.status.name,
        origin=origin,
        code=code,
    )
    target = Path(path)
    if target.is_dir() or (not target.exists() and not target.suffix):
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in instance_id)
        target = target / f"{safe}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return target


# --------------------------------------------------------------------------- sources
def is_store(source: object) -> TypeGuard[HistoryStore]:
    return isinstance(source, HistoryStore)


def history_from(
    source: object, instance_id: str | None = None
) -> tuple[History, EngineView | None]:
    """(the history, the engine it comes from or None) for anything a cursor opens."""
    if is_engine_source(source):
        engine = engine_of(source)
        if instance_id is None:
            raise ValueError("pass the instance_id of the instance to open")
        record = engine.require(instance_id)
        stored = list(engine.store.history(instance_id))
        return _from_stored(instance_id, stored, record), engine
    if is_store(source):
        if instance_id is None:
            raise ValueError("pass the instance_id of the instance to open")
        found = source.record(instance_id)
        stored = list(source.history(instance_id))
        if found is None and not stored:
            from wfkit.core._errors import InstanceNotFoundError

            raise InstanceNotFoundError(f"the store has no instance {instance_id!r}")
        return _from_stored(instance_id, stored, found), None
    if not isinstance(source, (History, str, bytes, os.PathLike, Mapping, Iterable)):
        raise TypeError(
            "expected a WorkflowRuntime, a DaprWorkflowClient, a store, a history file, a "
            f"list of events or a History, not {type(source).__name__}"
        )
    history = load_history(source)
    if instance_id is not None and history.instance_id not in (None, instance_id):
        raise ValueError(f"the history is of instance {history.instance_id!r}, not {instance_id!r}")
    if instance_id is not None and history.instance_id is None:
        history = dataclasses.replace(history, instance_id=instance_id)
    return history, None


def _from_stored(
    instance_id: str, stored: list[StoredEvent], record: InstanceRecord | None
) -> History:
    events = tuple(s.event for s in stored)
    origin = None
    if record is not None and record.origin_instance_id and record.origin_event_id is not None:
        origin = (record.origin_instance_id, record.origin_event_id)
    return History(
        events,
        instance_id=instance_id,
        workflow=(record.name if record is not None else None) or workflow_name_of(events),
        record=record,
        wall_times=tuple(s.wall_time for s in stored),
        origin=origin,
    )
