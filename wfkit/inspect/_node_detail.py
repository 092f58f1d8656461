"""Everything about one node of the execution graph (what a click on it shows)."""

from __future__ import annotations

import json
from typing import Any

from wfkit.core._history import FailureDetails
from wfkit.core._task import CompletableTask, TaskFailedError
from wfkit.inspect._replay import Entry, ReplayedInstance


def node_timings(node: dict[str, Any], first: Entry | None, closed: Entry | None) -> None:
    if first is not None:
        node["scheduled_at"] = first.ts.isoformat()
    if closed is not None:
        node["finished_at"] = closed.ts.isoformat()
    if first is not None and closed is not None:
        node["virtual_s"] = (closed.ts - first.ts).total_seconds()
        node["wall_ms"] = round((closed.wall_us - first.wall_us) / 1000, 3)


def node_payloads(
    r: ReplayedInstance, first: Entry | None, closed: Entry | None
) -> dict[str, str | None]:
    """input (of the scheduling event), output and error (of the closing event)."""
    out: dict[str, str | None] = {}
    if first is not None:
        out["input"] = r.payload(first)[0]
    if closed is not None:
        text, failure = r.payload(closed)
        out["output"] = text
        if failure is not None:
            out["error"] = f"{failure.error_type}: {failure.message}"
    return out


def json_text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def node_detail(
    replayed: ReplayedInstance, node_id: str, *, limit: int = 20_000
) -> dict[str, Any] | None:
    """Everything about one node: payloads in full (up to ``limit`` characters each),
    virtual and wall timings, and every attempt."""
    r = replayed
    if node_id in ("start", "end"):
        return _end_detail(r, node_id, limit)
    if not node_id.startswith("t") or not node_id[1:].isdigit():
        return None
    position = int(node_id[1:])
    if position >= len(r.tasks):
        return None
    task = r.tasks[position]
    ids = r.task_ids(task)
    attempts = _attempts(r, ids)
    out = {
        "id": node_id,
        "kind": task.kind,
        "name": task.name,
        "attempt_count": r.attempts(task),
        "attempts": attempts,
    }
    first = r.scheduled.get(ids[0]) if ids else None
    closed = r.closed.get(ids[-1]) if ids else None
    if task.kind == "event":
        _event_result(r, task, out, limit)
    else:
        _call_result(r, task, out, first, closed, limit)
    fire_at = getattr(task, "fire_at", None)
    if fire_at is not None:
        out["fire_at"] = fire_at.isoformat()
    if task.kind == "child":
        out["child_instance_id"] = r.child_instance_id(task)
    return out


def _failure(failure: FailureDetails) -> dict[str, Any]:
    return {
        "type": failure.error_type,
        "message": failure.message,
        "stack_trace": failure.stack_trace,
    }


def _pretty(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    try:
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = text
    if len(pretty) > limit:
        return pretty[:limit] + f"\n… ({len(pretty) - limit:,} more characters)"
    return pretty


def _end_detail(r: ReplayedInstance, node_id: str, limit: int) -> dict[str, Any] | None:
    entry = r.started if node_id == "start" else r.finished
    if entry is None:
        return None
    out: dict[str, Any] = {"id": node_id, "kind": node_id, "at": entry.ts.isoformat()}
    text, failure = r.payload(entry)
    if text is not None:
        out["input" if node_id == "start" else "output"] = _pretty(text, limit)
    if failure is not None:
        out["error"] = _failure(failure)
    return out


def _attempts(r: ReplayedInstance, ids: list[int]) -> list[dict[str, Any]]:
    attempts = []
    r.load_payloads(e for i in ids for e in (r.scheduled.get(i), r.closed.get(i)))
    for n, task_id in enumerate(ids, 1):
        first = r.scheduled.get(task_id)
        closed = r.closed.get(task_id)
        attempt: dict[str, Any] = {"attempt": n, "task_id": task_id}
        node_timings(attempt, first, closed)
        if first is not None:
            attempt["scheduled_wall"] = first.wall_time
        if closed is not None:
            attempt["finished_wall"] = closed.wall_time
            failure = r.payload(closed)[1]
            attempt["status"] = "failed" if failure is not None else "completed"
            if failure is not None:
                attempt["error"] = _failure(failure)
        else:
            attempt["status"] = "open"
        attempts.append(attempt)
    return attempts


def _event_result(
    r: ReplayedInstance, task: CompletableTask, out: dict[str, Any], limit: int
) -> None:
    closed = r.event_received(task)
    if closed is not None:
        out["output"] = _pretty(r.payload(closed)[0], limit)
        out["finished_at"] = closed.ts.isoformat()
    elif task.is_complete and not task.is_failed:
        out["output"] = _pretty(json_text(task.get_result()), limit)
    elif task.is_failed:
        out["error"] = {"message": str(task.get_exception()), "type": "TimeoutError"}


def _call_result(
    r: ReplayedInstance,
    task: CompletableTask,
    out: dict[str, Any],
    first: Entry | None,
    closed: Entry | None,
    limit: int,
) -> None:
    payloads = node_payloads(r, first, closed)
    if payloads.get("input") is not None:
        out["input"] = _pretty(payloads["input"], limit)
    if payloads.get("output") is not None:
        out["output"] = _pretty(payloads["output"], limit)
    node_timings(out, first, closed)
    if task.is_failed:
        exc = task.get_exception()
        if isinstance(exc, TaskFailedError):
            out["error"] = _failure(exc.details)
