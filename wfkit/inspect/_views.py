"""JSON views of instances and history events, shared by the HTTP API and the command line.

An instance is shown with the field names of Dapr's workflow HTTP API (``instanceID``,
``workflowName``, ``createdAt``, ``lastUpdatedAt``, ``runtimeStatus``, ``properties``);
timestamps are virtual time, RFC 3339 in UTC with a ``Z``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wfkit.core._history import event_fields
from wfkit.core._state import WorkflowState
from wfkit.core._time import to_naive_utc
from wfkit.store import StoredEvent

INPUT = "dapr.workflow.input"
OUTPUT = "dapr.workflow.output"
CUSTOM_STATUS = "dapr.workflow.custom_status"
FAILURE_TYPE = "dapr.workflow.failure.error_type"
FAILURE_MESSAGE = "dapr.workflow.failure.error_message"
FAILURE_STACK = "dapr.workflow.failure.stack_trace"
PARENT = "dapr.workflow.parent_instance_id"


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC (``2025-01-01T00:00:00Z``) of a naive-UTC or aware datetime."""
    return to_naive_utc(value).isoformat() + "Z"


def parse_timestamp(text: str | None) -> datetime | None:
    """Inverse of :func:`timestamp` (naive UTC); None for None or an unreadable text."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return to_naive_utc(value)


def instance_json(state: WorkflowState, *, stack_trace: bool = True) -> dict[str, Any]:
    """One instance as Dapr's ``GET /v1.0/workflows/dapr/{instanceID}`` reports it.

    ``properties`` always holds the custom status (``""`` when none is set) and holds the
    input, output and failure only when the instance has them; the failure's stack trace
    (which names files on the machine) only with ``stack_trace``.
    """
    properties: dict[str, str] = {CUSTOM_STATUS: state.serialized_custom_status or ""}
    if state.serialized_input is not None:
        properties[INPUT] = state.serialized_input
    if state.serialized_output is not None:
        properties[OUTPUT] = state.serialized_output
    failure = state.failure_details
    if failure is not None:
        properties[FAILURE_TYPE] = failure.error_type
        properties[FAILURE_MESSAGE] = failure.message
        if failure.stack_trace and stack_trace:
            properties[FAILURE_STACK] = failure.stack_trace
    if state.parent_instance_id:
        properties[PARENT] = state.parent_instance_id
    return {
        "instanceID": state.instance_id,
        "workflowName": state.name,
        "createdAt": timestamp(state.created_at),
        "lastUpdatedAt": timestamp(state.last_updated_at),
        "runtimeStatus": state.runtime_status.name,
        "properties": properties,
    }


def event_json(stored: StoredEvent, *, stack_trace: bool = True) -> dict[str, Any]:
    """One history event: its position, kind, name, virtual and wall time, and its fields
    (payloads as the JSON text stored; a failure's stack trace only with ``stack_trace``)."""
    event = stored.event
    fields = event_fields(event)
    failure = fields.get("failure")
    if not stack_trace and isinstance(failure, dict) and failure.get("stack_trace"):
        fields["failure"] = {**failure, "stack_trace": None}
    return {
        "seq": stored.seq,
        "eventId": event.event_id,
        "kind": event.kind,
        "name": event.name,
        "timestamp": timestamp(event.timestamp),
        "wallTime": stored.wall_time,
        "fields": fields,
    }
