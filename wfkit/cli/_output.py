"""Printing records: aligned tables, JSON and YAML (a small emitter for these records, so
no YAML library is needed), and the rows of ``list`` and ``history``."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta
from typing import Any

from wfkit.inspect._views import CUSTOM_STATUS, FAILURE_MESSAGE, parse_timestamp

FORMATS = ("table", "short", "wide", "json", "yaml")


# --------------------------------------------------------------------------- durations
def humanize(delta: timedelta | None) -> str:
    """``250ms``, ``42s``, ``5m3s``, ``3h20m``, ``7d``, ``2d5h``."""
    if delta is None:
        return "-"
    seconds = delta.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 1:
        return f"{sign}{round(seconds * 1000)}ms"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d" + (f"{hours}h" if hours else "")
    if hours:
        return f"{sign}{hours}h" + (f"{minutes}m" if minutes else "")
    if minutes:
        return f"{sign}{minutes}m" + (f"{secs}s" if secs else "")
    return f"{sign}{secs}s"


def _between(start: str | None, end: str | None) -> timedelta | None:
    a, b = parse_timestamp(start), parse_timestamp(end)
    return None if a is None or b is None else b - a


def _short_json(text: Any, limit: int = 120) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        text = json.dumps(text)
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    shown = shown.replace("\n", " ").replace("\r", " ")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# --------------------------------------------------------------------------- list
def instance_rows(now: str | None, instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per instance (the fields of ``-o wide``, JSON and YAML)."""
    rows = []
    for item in instances:
        props = item.get("properties") or {}
        rows.append(
            {
                "name": item.get("workflowName", ""),
                "instanceID": item.get("instanceID", ""),
                "created": item.get("createdAt", ""),
                "lastUpdate": item.get("lastUpdatedAt", ""),
                "runtimeStatus": item.get("runtimeStatus", ""),
                "customStatus": _short_json(props.get(CUSTOM_STATUS) or None) or None,
                "failureMessage": _short_json(props.get(FAILURE_MESSAGE), 200) or None,
                "age": humanize(_between(item.get("createdAt"), now)),
            }
        )
    return rows


LIST_SHORT = [
    ("NAME", "name"),
    ("ID", "instanceID"),
    ("STATUS", "runtimeStatus"),
    ("CUSTOM STATUS", "customStatus"),
    ("AGE", "age"),
]
LIST_WIDE = [
    ("NAME", "name"),
    ("INSTANCE ID", "instanceID"),
    ("CREATED", "created"),
    ("LAST UPDATE", "lastUpdate"),
    ("STATUS", "runtimeStatus"),
    ("CUSTOM STATUS", "customStatus"),
    ("FAILURE MESSAGE", "failureMessage"),
]


# --------------------------------------------------------------------------- history
def _status(kind: str, fields: dict[str, Any]) -> str:
    if kind in ("TaskFailed", "ChildWorkflowInstanceFailed"):
        return "FAILED"
    if kind == "ExecutionCompleted":
        return str(fields.get("status") or "COMPLETED")
    return {
        "ExecutionTerminated": "TERMINATED",
        "ExecutionSuspended": "SUSPENDED",
        "ExecutionResumed": "RESUMED",
    }.get(kind, "RUNNING")


def _details(kind: str, fields: dict[str, Any], first: str | None, at: str | None) -> str:
    failure = fields.get("failure") or {}
    if kind == "ExecutionStarted":
        return "orchestration start"
    if kind == "WorkflowStarted":
        return "replay cycle start"
    if kind == "TaskScheduled":
        return f"activity={fields.get('activity_name')}"
    if kind in ("TaskCompleted", "ChildWorkflowInstanceCompleted"):
        return f"eventId={fields.get('task_scheduled_id')}"
    if kind in ("TaskFailed", "ChildWorkflowInstanceFailed"):
        return (
            f"eventId={fields.get('task_scheduled_id')} {failure.get('error_type', '')}: "
            + _short_json(json.dumps(failure.get("message", "")), 100)
        )
    if kind == "TimerCreated":
        origin = fields.get("origin")
        fire_at = fields.get("fire_at") or ""
        if str(fire_at).startswith("9999-12-31"):
            return f"event={fields.get('origin_name')} (no timeout)"
        text = f"fireAt={fire_at}Z"
        if origin == "external_event":
            text += f" (timeout of event {fields.get('origin_name')})"
        elif origin and origin != "create_timer":
            text += f" ({origin.replace('_', ' ')})"
        return text
    if kind == "TimerFired":
        return f"timerId={fields.get('timer_id')}"
    if kind == "EventRaised":
        return f"event={fields.get('event_name')}"
    if kind == "ChildWorkflowInstanceCreated":
        return f"workflow={fields.get('workflow_name')} instance={fields.get('instance_id')}"
    if kind == "ExecutionCompleted":
        text = f"execDuration={humanize(_between(first, at))}"
        if failure:
            text += f" {failure.get('error_type', '')}: " + _short_json(
                json.dumps(failure.get("message", "")), 100
            )
        return text
    if kind in ("ExecutionSuspended", "ExecutionResumed") and fields.get("reason"):
        return f"reason={fields['reason']}"
    return ""


def _attrs(fields: dict[str, Any]) -> str:
    parts = []
    for key, label in (("input", "input"), ("result", "result"), ("output", "output")):
        if fields.get(key) is not None:
            parts.append(f"{label}={_short_json(fields[key])}")
    return ";".join(parts)


def history_rows(now: str | None, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per history event: type, name, event id, elapsed since the previous
    event (virtual time; the first shows the instance's age), status and details."""
    rows = []
    first = events[0]["timestamp"] if events else None
    previous = first
    for index, event in enumerate(events):
        kind = event.get("kind", "")
        fields = event.get("fields") or {}
        at = event.get("timestamp")
        if index == 0:
            age = _between(at, now)
            elapsed = f"Age:{humanize(age)}" if age is not None else "-"
        else:
            elapsed = humanize(_between(previous, at))
        previous = at
        event_id = event.get("eventId", -1)
        rows.append(
            {
                "seq": event.get("seq", index),
                "type": kind,
                "name": event.get("name") or None,
                "eventId": event_id if isinstance(event_id, int) and event_id >= 0 else None,
                "timestamp": at,
                "elapsed": elapsed,
                "status": _status(kind, fields),
                "details": _details(kind, fields, first, at) or None,
                "attrs": _attrs(fields) or None,
            }
        )
    return rows


HISTORY_SHORT = [
    ("TYPE", "type"),
    ("NAME", "name"),
    ("EVENTID", "eventId"),
    ("ELAPSED", "elapsed"),
    ("STATUS", "status"),
    ("DETAILS", "details"),
]
HISTORY_WIDE = [
    ("SEQ", "seq"),
    ("TYPE", "type"),
    ("NAME", "name"),
    ("EVENTID", "eventId"),
    ("TIMESTAMP", "timestamp"),
    ("ELAPSED", "elapsed"),
    ("STATUS", "status"),
    ("DETAILS", "details"),
    ("ATTRS", "attrs"),
]


# --------------------------------------------------------------------------- rendering
# Characters a terminal acts on instead of showing (ESC starts escape sequences that can
# rewrite the screen or the window title; C1 controls, carriage returns, bidirectional
# overrides), which payloads, ids and messages may carry.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every control character but the newline shown as an escape
    (``\\x1b``), so that printing it cannot drive the terminal."""
    return _CONTROL.sub(_escape, text)


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return str(value).replace("\n", " ")


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    cells = [[_cell(row.get(key)) for _, key in columns] for row in rows]
    widths = [len(title) for title, _ in columns]
    for line in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, line, strict=True)]
    out = []
    for line in [[t for t, _ in columns], *cells]:
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    return "\n".join(out)


_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+-]*")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _yaml_string(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    out = ['"']
    for ch in text:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif (
            0x20 <= o <= 0x7E
            or (0xA0 <= o <= 0xD7FF and o not in (0x2028, 0x2029))
            or (0xE000 <= o <= 0xFFFD and o != 0xFEFF)
            or o >= 0x10000
        ):
            out.append(ch)
        elif o <= 0xFF:
            out.append(f"\\x{o:02x}")
        else:
            out.append(f"\\u{o:04x}")
    out.append('"')
    return "".join(out)


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:  # YAML 1.1 readers want a dot: 1e-05 -> 1.0e-05
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, datetime):
        return _yaml_string(value.isoformat())
    return _yaml_string(str(value))


def _yaml_lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            head = f"{pad}{_yaml_string(str(key))}:"
            if isinstance(item, dict | list) and item:
                lines.append(head)
                lines.extend(_yaml_lines(item, indent + 2))
            else:
                lines.append(f"{head} {_yaml_inline(item)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            if isinstance(item, dict | list) and item:
                nested = _yaml_lines(item, indent + 2)
                lines.append(pad + "- " + nested[0][indent + 2 :])
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_yaml_inline(item)}")
        return lines
    return [pad + _yaml_scalar(value)]


def _yaml_inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _yaml_scalar(value)


def to_yaml(value: Any) -> str:
    """YAML for JSON-like data (dicts, lists, strings, numbers, booleans, None); strings
    that could read as something else are double-quoted."""
    return "\n".join(_yaml_lines(value, 0))


def render(
    data: Any,
    fmt: str,
    *,
    short: list[tuple[str, str]] | None = None,
    wide: list[tuple[str, str]] | None = None,
) -> str:
    if fmt == "json":  # JSON escapes C0 controls itself; the others as \\uXXXX too
        text = json.dumps(data, indent=2, ensure_ascii=False)
        return _CONTROL.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
    if fmt == "yaml":
        return to_yaml(data)
    columns = wide if fmt == "wide" and wide else short
    if columns is None or not isinstance(data, list):
        return to_yaml(data)
    return table(data, columns)
