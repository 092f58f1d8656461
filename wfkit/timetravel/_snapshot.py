"""JSON-safe snapshots of an orchestrator's local variables.

Values go through wfkit's JSON codec (dataclasses, namedtuples, SimpleNamespaces and
models become objects, as in a payload); tasks are described in one line; anything the
codec refuses becomes its ``repr``. Containers are cut after :data:`MAX_ITEMS` items and
strings after :data:`MAX_CHARS` characters, so a fan-out over 100,000 items snapshots in
constant time.
"""

from __future__ import annotations

import dataclasses
import json
import math
from types import SimpleNamespace
from typing import Any

from wfkit.core import _serde
from wfkit.core._task import (
    CompletableTask,
    CompositeTask,
    ExternalEventTask,
    Task,
    TimerTask,
    WhenAllTask,
)

MAX_ITEMS = 100
MAX_CHARS = 2_000
MAX_DEPTH = 8
PREVIEW = 80


def _cut(text: str, limit: int = MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _preview(value: Any) -> str:
    try:
        text = json.dumps(jsonable(value), ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return _cut(" ".join(text.split()), PREVIEW)


def _state(task: Task) -> str:
    if not task.is_complete:
        return "pending"
    if task.is_failed:
        exc = task.get_exception()
        return f"failed: {_cut(f'{type(exc).__name__}: {exc}', PREVIEW)}"
    return "completed"


def describe_task(task: Task) -> str:
    """One line about a task: what it is, its id, and how it stands (with its result)."""
    if isinstance(task, ExternalEventTask):
        event_task = task.get_tasks()[0]
        name = getattr(event_task, "name", None)
        head = f"<event {name!r}"
        if task.is_complete and not task.is_failed:
            return f"{head}: received {_preview(task.get_result())}>"
        if task.is_complete:
            return f"{head}: {_state(task)}>"
        return f"{head}: waiting>"
    if isinstance(task, CompositeTask):
        mode = "when_all" if isinstance(task, WhenAllTask) else "when_any"
        children = task.get_tasks()
        done = sum(1 for t in children if t.is_complete)
        head = f"<{mode} of {len(children)} task{'s' if len(children) != 1 else ''}"
        if task.is_complete and not task.is_failed and mode == "when_any":
            winner = task.get_result()
            if isinstance(winner, Task):
                return f"{head}: won by {describe_task(winner)}>"
        if task.is_complete:
            return f"{head}: {_state(task)}>"
        return f"{head}: {done}/{len(children)} done>"
    if isinstance(task, CompletableTask):
        if isinstance(task, TimerTask):
            head = f"<timer #{task.task_id} at {task.fire_at.isoformat()}"
            if task.is_complete and not task.is_failed:
                return f"{head}: fired>"
        else:
            ident = f" #{task.task_id}" if task.task_id is not None else ""
            head = f"<{task.kind} {task.name!r}{ident}"
        if task.is_complete and not task.is_failed:
            return f"{head}: completed {_preview(task.get_result())}>"
        return f"{head}: {_state(task)}>"
    return f"<task: {_state(task)}>"


def _strip_marker(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_marker(v) for k, v in value.items() if k != _serde.AUTO_SERIALIZED}
    if isinstance(value, list):
        return [_strip_marker(v) for v in value]
    return value


def _repr(value: Any) -> str:
    try:
        return _cut(repr(value))
    except Exception as exc:  # a broken __repr__ must not break the snapshot
        return f"<{type(value).__name__} (repr failed: {type(exc).__name__})>"


def _more(n: int) -> str:
    return f"… {n:,} more"


def jsonable(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON data (bounded in size); ``repr`` where JSON cannot say it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, Task):
        return describe_task(value)
    if depth >= MAX_DEPTH:
        return _repr(value)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for i, (key, item) in enumerate(value.items()):
            if i >= MAX_ITEMS:
                out["…"] = _more(len(value) - MAX_ITEMS)
                break
            out[key if isinstance(key, str) else _repr(key)] = jsonable(item, depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)) and not hasattr(value, "_asdict"):
        items = list(value)
        out_list = [jsonable(item, depth + 1) for item in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            out_list.append(_more(len(items) - MAX_ITEMS))
        return out_list
    if (
        hasattr(value, "_asdict")
        or isinstance(value, SimpleNamespace)
        or (dataclasses.is_dataclass(value) and not isinstance(value, type))
        or callable(getattr(value, "model_dump", None))
    ):
        try:
            text = _serde.encode(value)
        except Exception:
            return _repr(value)
        return jsonable(_strip_marker(json.loads(text)) if text is not None else None, depth)
    return _repr(value)


def snapshot_locals(f_locals: dict[str, Any]) -> dict[str, Any]:
    """The local variables of a frame as JSON data, in definition order."""
    return {name: jsonable(value) for name, value in f_locals.items()}
