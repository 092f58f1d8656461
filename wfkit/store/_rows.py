"""History events and instance records as table rows, and the DataFrames built from them.

One row layout serves the DuckDB tables and the DataFrames every store returns, so a
history reads the same whichever backend holds it. Each event becomes: its kind, the name
it reports, its task id (the id a scheduling event assigns, the scheduled id a result
closes, or a timer's id), its payload (the JSON text of its input, result or output), its
failure (JSON), and the rest of its fields (JSON).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from wfkit.core._history import EVENT_TYPES, FailureDetails, HistoryEvent
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.store._base import StoredEvent

if TYPE_CHECKING:
    import pandas

#: Columns of the history table (and of ``history()`` DataFrames), in order.
HISTORY_COLUMNS = (
    "instance_id",
    "seq",
    "event_id",
    "kind",
    "name",
    "ts",
    "wall_ts",
    "task_id",
    "payload",
    "failure",
    "fields",
)

#: Columns of the instances table (and of ``instances()`` DataFrames), in order.
INSTANCE_COLUMNS = (
    "instance_id",
    "name",
    "status",
    "created_at",
    "last_updated_at",
    "input",
    "output",
    "custom_status",
    "failure_message",
    "failure_type",
    "failure_stack",
    "parent_instance_id",
    "parent_task_id",
    "start_at",
    "origin_instance_id",
    "origin_event_id",
)

_PAYLOAD_FIELDS = ("input", "result", "output")
_TASK_FIELDS = ("task_id", "task_scheduled_id", "timer_id")
_NAME_FIELDS = {
    "ExecutionStarted": "workflow_name",
    "TaskScheduled": "activity_name",
    "TimerCreated": "origin_name",
    "EventRaised": "event_name",
    "ChildWorkflowInstanceCreated": "workflow_name",
}
NO_TASK = -1  # task_id of events that have none (stored as NULL)


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each field of one event class goes in a row."""

    kind: str
    payload: str | None
    task: str | None
    name: str | None
    failure: bool
    rest: tuple[str, ...]
    dates: tuple[str, ...]


def _layout(cls: type[HistoryEvent]) -> _Layout:
    names = [f.name for f in dataclasses.fields(cls) if f.name != "timestamp"]
    payload = next((n for n in _PAYLOAD_FIELDS if n in names), None)
    task = next((n for n in _TASK_FIELDS if n in names), None)
    name = _NAME_FIELDS.get(cls.__name__)
    taken = {payload, task, name, "failure"}
    rest = tuple(n for n in names if n not in taken)
    return _Layout(
        kind=cls.__name__,
        payload=payload,
        task=task,
        name=name,
        failure="failure" in names,
        rest=rest,
        dates=tuple(n for n in rest if n == "fire_at"),
    )


_LAYOUTS: dict[str, _Layout] = {kind: _layout(cls) for kind, cls in EVENT_TYPES.items()}


def _failure_json(failure: FailureDetails | None) -> str | None:
    if failure is None:
        return None
    return json.dumps(
        {
            "message": failure.message,
            "error_type": failure.error_type,
            "stack_trace": failure.stack_trace,
        }
    )


def event_row(stored: StoredEvent) -> tuple[Any, ...]:
    """The history-table row of one event; ``wall_ts`` as integer microseconds since the
    epoch and ``task_id`` as ``NO_TASK`` when the event has none (the SQL converts both)."""
    return _ROW_MAKERS[type(stored.event)](stored)


#: ``fields`` texts kept per kind (the values they encode -> the text): the events of a
#: turn mostly share them (a timer's fire time and origin), and encoding costs more
#: than a look-up. Cleared when full.
_FIELDS_CACHE = 4096


def _row_maker(layout: _Layout) -> Callable[[StoredEvent], tuple[Any, ...]]:
    """:func:`event_row` for one kind, with its layout resolved once (a million events
    are written in a few seconds)."""
    kind, dates, rest_names = layout.kind, layout.dates, layout.rest
    name_of = attrgetter(layout.name) if layout.name else None
    task_of = attrgetter(layout.task) if layout.task else None
    payload_of = attrgetter(layout.payload) if layout.payload else None
    failure_of = attrgetter("failure") if layout.failure else None
    rest_of = attrgetter(*rest_names) if rest_names else None
    single = len(rest_names) == 1
    texts: dict[Any, str | None] = {}

    def fields(event: HistoryEvent) -> str | None:
        values = (rest_of(event),) if single else rest_of(event)  # type: ignore[misc]
        try:
            return texts[values]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key (never cached)
            return _fields_json(rest_names, dates, values)
        if len(texts) >= _FIELDS_CACHE:
            texts.clear()
        text = texts[values] = _fields_json(rest_names, dates, values)
        return text

    def row(stored: StoredEvent) -> tuple[Any, ...]:
        event = stored.event
        return (
            stored.instance_id,
            stored.seq,
            event.event_id,
            kind,
            name_of(event) if name_of else None,
            event.timestamp,
            round(stored.wall_time * 1_000_000),
            task_of(event) if task_of else NO_TASK,
            payload_of(event) if payload_of else None,
            _failure_json(failure_of(event)) if failure_of else None,
            fields(event) if rest_of else None,
        )

    return row


def _fields_json(
    names: tuple[str, ...], dates: tuple[str, ...], values: tuple[Any, ...]
) -> str | None:
    """The ``fields`` text of an event: the fields not left at their default (None or
    empty), dates as ISO text; None when there is none."""
    rest = {n: v for n, v in zip(names, values, strict=True) if v is not None and v != ()}
    for n in dates:
        if n in rest:
            rest[n] = rest[n].isoformat()
    return json.dumps(rest) if rest else None


_ROW_MAKERS = {EVENT_TYPES[k]: _row_maker(v) for k, v in _LAYOUTS.items()}


_DECODER = json.JSONDecoder()


def _reader(layout: _Layout) -> Callable[..., HistoryEvent]:
    """The inverse of :func:`event_row` for one kind, with its layout resolved once (a
    100k-event history is read in well under a second)."""
    cls = EVENT_TYPES[layout.kind]
    name, task, payload, dates = layout.name, layout.task, layout.payload, layout.dates
    has_failure = layout.failure

    def read(
        ts: datetime,
        task_id: int | None,
        name_value: str | None,
        payload_value: str | None,
        failure: str | None,
        fields: str | None,
    ) -> HistoryEvent:
        # raw_decode: the stored text has no surrounding whitespace to skip (a regex per call)
        values: dict[str, Any] = _DECODER.raw_decode(fields)[0] if fields else {}
        for date in dates:
            if isinstance(values.get(date), str):
                values[date] = datetime.fromisoformat(values[date])
        if name:
            values[name] = name_value
        if task:
            values[task] = task_id
        if payload:
            values[payload] = payload_value
        if has_failure:
            values["failure"] = (
                FailureDetails(**_DECODER.raw_decode(failure)[0]) if failure else None
            )
        return cls(timestamp=ts, **values)

    return read


_READERS = {kind: _reader(layout) for kind, layout in _LAYOUTS.items()}


def row_event(
    kind: str,
    ts: datetime,
    task_id: int | None,
    name: str | None,
    payload: str | None,
    failure: str | None,
    fields: str | None,
) -> HistoryEvent:
    """Inverse of :func:`event_row` (from the columns that carry the event)."""
    return _READERS[kind](ts, task_id, name, payload, failure, fields)


def events_json(events: list[HistoryEvent]) -> str:
    """Events as one JSON text (the rows :func:`event_row` makes, times as ISO text): how
    a store keeps events that are not in a history yet (an instance's held commands)."""
    rows = []
    for event in events:
        row = event_row(StoredEvent("", 0, event, 0.0))
        rows.append([row[3], row[5].isoformat(), row[7], row[4], row[8], row[9], row[10]])
    return json.dumps(rows)


def json_events(text: str) -> list[HistoryEvent]:
    """Inverse of :func:`events_json`."""
    return [
        row_event(kind, datetime.fromisoformat(ts), task_id, name, payload, failure, fields)
        for kind, ts, task_id, name, payload, failure, fields in json.loads(text)
    ]


def record_row(record: InstanceRecord) -> tuple[Any, ...]:
    failure = record.failure
    return (
        record.instance_id,
        record.name,
        record.status.name,
        record.created_at,
        record.last_updated_at,
        record.input,
        record.output,
        record.custom_status,
        failure.message if failure else None,
        failure.error_type if failure else None,
        failure.stack_trace if failure else None,
        record.parent_instance_id,
        record.parent_task_id,
        record.start_at,
        record.origin_instance_id,
        record.origin_event_id,
    )


def row_record(row: tuple[Any, ...]) -> InstanceRecord:
    """Inverse of :func:`record_row`."""
    (iid, name, status, created, updated, inp, out, custom, f_msg, f_type, f_stack) = row[:11]
    parent_id, parent_task, start_at, origin_id, origin_event = row[11:16]
    failure = None
    if f_msg is not None or f_type is not None:
        failure = FailureDetails(f_msg or "", f_type or "", f_stack)
    return InstanceRecord(
        instance_id=iid,
        name=name,
        status=WorkflowStatus[status],
        created_at=created,
        last_updated_at=updated,
        input=inp,
        output=out,
        custom_status=custom,
        failure=failure,
        parent_instance_id=parent_id,
        parent_task_id=parent_task,
        start_at=start_at,
        origin_instance_id=origin_id,
        origin_event_id=origin_event,
    )


# --------------------------------------------------------------------------- DataFrames
def _wall_datetime(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC).replace(tzinfo=None)


def history_frame(events: list[StoredEvent]) -> pandas.DataFrame:
    """The DataFrame of ``history()`` built in Python (stores without SQL)."""
    import pandas

    rows = []
    for stored in events:
        row = list(event_row(stored))
        row[6] = _wall_datetime(row[6])
        row[7] = None if row[7] == NO_TASK else row[7]
        rows.append(row)
    frame = pandas.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    return _typed(frame, ints=("seq", "event_id", "task_id"), times=("ts", "wall_ts"))


def instances_frame(records: list[InstanceRecord]) -> pandas.DataFrame:
    """The DataFrame of ``instances()`` built in Python (stores without SQL)."""
    import pandas

    frame = pandas.DataFrame([record_row(r) for r in records], columns=list(INSTANCE_COLUMNS))
    return _typed(
        frame,
        ints=("parent_task_id", "origin_event_id"),
        times=("created_at", "last_updated_at", "start_at"),
    )


def _typed(
    frame: pandas.DataFrame, *, ints: tuple[str, ...], times: tuple[str, ...]
) -> pandas.DataFrame:
    """Give Python-built frames the dtypes DuckDB's ``.df()`` gives the same columns."""
    import pandas

    for column in ints:
        frame[column] = pandas.array(frame[column].astype(object), dtype="Int32")
    for column in times:
        frame[column] = pandas.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


def status_names(status: Any) -> list[str] | None:
    """``instances(status=...)``: a WorkflowStatus, its name, or several of them."""
    if status is None:
        return None
    items = [status] if isinstance(status, WorkflowStatus | str) else list(status)
    names = []
    for item in items:
        if isinstance(item, WorkflowStatus):
            names.append(item.name)
        elif isinstance(item, str) and item.upper() in WorkflowStatus.__members__:
            names.append(item.upper())
        else:
            raise ValueError(
                f"status must be a WorkflowStatus or one of "
                f"{', '.join(WorkflowStatus.__members__)}, not {item!r}"
            )
    return names
