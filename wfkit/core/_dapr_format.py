"""Dapr's history format: its names for wfkit's values, and its timestamps.

Shared by the export (:mod:`wfkit.core._dapr_export`) and the import
(:mod:`wfkit.core._dapr_import`); :mod:`wfkit.core._dapr_history` describes the mapping.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from wfkit.core._history import OPTIONAL_TIMER_FIRE_AT
from wfkit.core._time import to_naive_utc

EPOCH = datetime(1970, 1, 1)
#: The fire time of an indefinite wait's timer, as Dapr writes it (wfkit keeps
#: microseconds: ``OPTIONAL_TIMER_FIRE_AT``).
OPTIONAL_JSON = "9999-12-31T23:59:59.999999999Z"

#: wfkit's timer origins and the ``TimerCreatedEvent`` oneof field of each.
TIMER_ORIGINS = {
    "create_timer": "createTimer",
    "external_event": "externalEvent",
    "activity_retry": "activityRetry",
    "child_workflow_retry": "childWorkflowRetry",
}
ORIGIN_OF = {v: k for k, v in TIMER_ORIGINS.items()}

STATUS_JSON = {
    "COMPLETED": "ORCHESTRATION_STATUS_COMPLETED",
    "FAILED": "ORCHESTRATION_STATUS_FAILED",
    "TERMINATED": "ORCHESTRATION_STATUS_TERMINATED",
    "CONTINUED_AS_NEW": "ORCHESTRATION_STATUS_CONTINUED_AS_NEW",
}
STATUS_OF = {v: k for k, v in STATUS_JSON.items()}
STATUS_OF["ORCHESTRATION_STATUS_CANCELED"] = "TERMINATED"
#: ``OrchestrationStatus`` numbers, for dicts written with ``use_integers_for_enums``.
STATUS_NUMBERS = {
    1: "COMPLETED",
    2: "CONTINUED_AS_NEW",
    3: "FAILED",
    4: "TERMINATED",
    5: "TERMINATED",
}


# --------------------------------------------------------------------------- timestamps
def timestamp_json(value: datetime) -> str:
    """A naive-UTC datetime as protobuf's JSON writes a ``Timestamp``."""
    if value == OPTIONAL_TIMER_FIRE_AT:  # Dapr's sentinel has nanoseconds: 999999999
        return OPTIONAL_JSON
    value = to_naive_utc(value)
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    micros = value.microsecond
    if micros == 0:
        return text + "Z"
    if micros % 1000 == 0:
        return f"{text}.{micros // 1000:03d}Z"
    return f"{text}.{micros:06d}Z"


_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2})?$"
)


_PARSED: dict[str, datetime] = {}


def parse_timestamp(value: Any) -> datetime:
    """An RFC 3339 text (or a datetime) as a naive-UTC datetime (nanoseconds truncated)."""
    if isinstance(value, str):
        parsed = _PARSED.get(value)
        if parsed is None:
            parsed = _parse_text(value)
            if len(_PARSED) > 65536:
                _PARSED.clear()
            _PARSED[value] = parsed
        return parsed
    if value is None:
        return EPOCH
    if isinstance(value, datetime):
        return to_naive_utc(value)
    if hasattr(value, "ToDatetime"):  # a protobuf Timestamp
        return value.ToDatetime()
    return _parse_text(str(value))


def _parse_text(text: str) -> datetime:
    if not text:
        return EPOCH
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_rfc3339(text)
    parsed = to_naive_utc(parsed)
    return parsed


def _parse_rfc3339(text: str) -> datetime:
    match = _TIMESTAMP.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    day, time, fraction, zone = match.groups()
    parsed = datetime.fromisoformat(f"{day}T{time}")
    if fraction:
        parsed = parsed.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        parsed -= sign * timedelta(hours=hours, minutes=minutes)
    return parsed


# --------------------------------------------------------------------------- protobuf
def protos_and_json_format() -> tuple[Any, Any]:
    try:
        from dapr.ext.workflow._durabletask.internal import protos
        from google.protobuf import json_format
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "protobuf messages need Dapr's SDK and protobuf: pip install 'wfkit[dapr]' "
            f"(or dapr[workflow]) ({exc})"
        ) from None
    return json_format, protos
