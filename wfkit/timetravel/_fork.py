"""Forks: a new instance that starts from another's history up to a scheduling event.

This is Dapr's rerun-from-event generalised: the new instance's history is the source's
up to (not including) the scheduling event of an activity, timer or child workflow; the
code replays that prefix and runs on from there, making that call again. A fork can
change what the prefix says (an activity's result, an external event's payload), the
input of the call it restarts at, and the code itself. The client's
``rerun_workflow_from_event`` is a fork with Dapr's rules (a finished, top-level source).
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Mapping
from typing import Any

from wfkit.core import _serde
from wfkit.core._errors import (
    EngineError,
    InvalidInstanceStateError,
    NonDeterminismError,
    WfkitError,
)
from wfkit.core._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceFailed,
    EventRaised,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TimerCreated,
    TimerFired,
)
from wfkit.core._orchestration import describe_decision
from wfkit.core._state import UNSET, InstanceRecord, WorkflowStatus
from wfkit.timetravel._cursor import REPLAY_ERRORS, Frame, Replay, resolve_workflow
from wfkit.timetravel._source import History, engine_of

_TASK_RESULTS = (TaskCompleted, TaskFailed)
_CHILD_RESULTS = (ChildWorkflowInstanceCompleted, ChildWorkflowInstanceFailed)


class ForkPointError(WfkitError, ValueError):
    """A fork (or rerun) point that is not the scheduling event of an activity, a timer
    or a child workflow in the source's history, or a change that does not apply there."""


def fork_points(events: list[HistoryEvent]) -> list[tuple[int, int, str]]:
    """(position, event id, description) of every event a fork can start at."""
    return [(i, e.event_id, describe_decision(e)) for i, e in enumerate(events) if e.is_scheduling]


def _points_text(events: list[HistoryEvent]) -> str:
    points = fork_points(events)
    if not points:
        return "the history has no scheduling events, so no fork points"
    shown = ", ".join(f"event id {eid} (position {i}: {what})" for i, eid, what in points[:12])
    more = f", and {len(points) - 12} more" if len(points) > 12 else ""
    return f"fork points: {shown}{more}"


def _cut(events: list[HistoryEvent], instance_id: str, at: Any, index: int | None) -> int:
    if isinstance(at, Frame):
        at, index = None, at.index
    elif isinstance(at, HistoryEvent):
        at = at.event_id
    if (at is None) == (index is None):
        raise TypeError("pass the fork point as at=<event id> or index=<history position>")
    if index is not None:
        if not isinstance(index, int) or not -len(events) <= index < len(events):
            raise ForkPointError(
                f"position {index} is outside the history of {instance_id!r} "
                f"(0 to {len(events) - 1}); {_points_text(events)}"
            )
        index %= len(events)
        if not events[index].is_scheduling:
            raise ForkPointError(
                f"position {index} of {instance_id!r} is a {events[index].kind} event, not "
                "the scheduling of an activity, timer or child workflow; " + _points_text(events)
            )
        return index
    if not isinstance(at, int) or isinstance(at, bool):
        raise TypeError(f"at must be an event id (int), a Frame or an event, not {at!r}")
    for i, event in enumerate(events):
        if event.is_scheduling and event.event_id == at:
            return i
    raise ForkPointError(
        f"event id {at} of {instance_id!r} is not an activity, timer or child workflow "
        f"scheduling event; {_points_text(events)}"
    )


def _replace_results(
    prefix: list[HistoryEvent], changes: Mapping[int, Any], limit: int | None
) -> list[HistoryEvent]:
    out = list(prefix)
    for task_id, value in changes.items():
        hits = [
            i
            for i, e in enumerate(out)
            if isinstance(e, _TASK_RESULTS + _CHILD_RESULTS) and e.task_scheduled_id == task_id
        ]
        if not hits:
            have = sorted(
                {e.task_scheduled_id for e in out if isinstance(e, _TASK_RESULTS + _CHILD_RESULTS)}
            )
            raise ForkPointError(
                f"task {task_id} has no result in the history before the fork point, so "
                f"there is none to replace (tasks with a result there: {have or 'none'}); "
                "fork at a later event"
            )
        encoded = _serde.encode(value, what=f"replaced result of task {task_id}", limit=limit)
        for i in hits:
            old = out[i]
            cls = (
                TaskCompleted if isinstance(old, _TASK_RESULTS) else ChildWorkflowInstanceCompleted
            )
            out[i] = cls(timestamp=old.timestamp, task_scheduled_id=task_id, result=encoded)
    return out


def _replace_payloads(
    prefix: list[HistoryEvent], changes: Mapping[str | int, Any], limit: int | None
) -> list[HistoryEvent]:
    out = list(prefix)
    for key, value in changes.items():
        if isinstance(key, int):
            hits = [key] if 0 <= key < len(out) and isinstance(out[key], EventRaised) else []
        else:
            hits = [
                i
                for i, e in enumerate(out)
                if isinstance(e, EventRaised) and e.event_name.casefold() == str(key).casefold()
            ]
        if not hits:
            raised = sorted({e.event_name for e in out if isinstance(e, EventRaised)})
            raise ForkPointError(
                f"no external event {key!r} is in the history before the fork point "
                f"(events raised there: {raised or 'none'}); pass an event name or the "
                "position of an EventRaised event"
            )
        encoded = _serde.encode(value, what=f"replaced payload of event {key!r}", limit=limit)
        for i in hits:
            old = out[i]
            assert isinstance(old, EventRaised)
            out[i] = EventRaised(timestamp=old.timestamp, event_name=old.event_name, input=encoded)
    return out


def _check_prefix(prefix: list[HistoryEvent], invoker: Any, instance_id: str) -> None:
    """The code must replay the prefix: else the fork would fail at once."""
    replay = Replay(instance_id, invoker, list(prefix))
    replay.apply_to(len(prefix) - 1)
    outcome = replay.orchestration.outcome
    failure = outcome.failure if outcome is not None else None
    if failure is not None and failure.error_type in REPLAY_ERRORS:
        raise NonDeterminismError(
            "cannot fork: the workflow code does not replay the history before the fork "
            f"point. {failure.message} (check_replay shows where the code and the history "
            "part; a replaced result that changes the code's path needs a fork point right "
            "after that result)"
        )


def start_fork(
    engine: Any,
    instance_id: str,
    *,
    at: Any = None,
    index: int | None = None,
    new_instance_id: str | None = None,
    input: Any = UNSET,
    replace_result: Mapping[int, Any] | None = None,
    replace_event_payload: Mapping[str | int, Any] | None = None,
    workflow: Any = None,
    finished_only: bool = False,
) -> str:
    """:func:`fork` on an engine; ``finished_only`` applies Dapr's rerun rules (the
    source must have finished and must not be a child workflow)."""
    if new_instance_id is not None and (
        not isinstance(new_instance_id, str) or not new_instance_id
    ):
        raise ValueError("new_instance_id must be None or a non-empty string")
    new_id = new_instance_id or uuid.uuid4().hex
    if not hasattr(engine, "start_from_history"):  # a copy of another engine's instances
        raise EngineError(
            "a fork starts a new instance and runs it in this process, so it works on the "
            "instances of a WorkflowRuntime, not on those read from another engine; step "
            "through them with open_cursor and check edited code with check_replay"
        )
    with engine._lock:
        source: InstanceRecord = engine._require(instance_id)
        if finished_only:
            if not source.status.is_terminal:
                raise InvalidInstanceStateError(
                    f"cannot rerun workflow instance {instance_id!r}: it is "
                    f"{source.status.name}; only finished instances can be rerun"
                )
            if source.parent_instance_id is not None:
                raise InvalidInstanceStateError(
                    f"cannot rerun {instance_id!r}: it is a child workflow; rerun its parent "
                    f"{source.parent_instance_id!r} instead"
                )
        if new_id == instance_id:
            raise InvalidInstanceStateError(
                f"a fork needs an instance id of its own, not its source's ({instance_id!r})"
            )
        events = [s.event for s in engine.store.history(instance_id)]
        cut = _cut(events, instance_id, at, index)
        target = events[cut]
        if input is not UNSET and isinstance(target, TimerCreated):
            raise ForkPointError(
                f"event id {target.event_id} of {instance_id!r} is a timer, which takes no "
                "input; leave input out, or fork at an activity or child workflow"
            )
        prefix = events[:cut]
        if replace_result:
            prefix = _replace_results(prefix, replace_result, engine.limit)
        if replace_event_payload:
            prefix = _replace_payloads(prefix, replace_event_payload, engine.limit)
        code = engine._code.get(instance_id)  # a fork of a fork keeps its code
        if workflow is not None:
            history = History(tuple(prefix), instance_id=new_id, workflow=source.name)
            code = resolve_workflow(workflow, engine, history)
        _check_prefix(prefix, code or engine.workflow_code(instance_id, source.name), new_id)
        now = engine.clock.now()
        record = InstanceRecord(
            instance_id=new_id,
            name=source.name,
            status=WorkflowStatus.RUNNING,
            created_at=now,
            last_updated_at=now,
            input=source.input,
            origin_instance_id=instance_id,
            origin_event_id=target.event_id,
        )
        override = None
        if input is not UNSET:
            encoded = _serde.encode(
                input, what=f"input of the call at event {target.event_id}", limit=engine.limit
            )
            override = (target.event_id, encoded)
        return engine.start_from_history(record, prefix, override=override, workflow=code)


def fork(
    runtime: Any,
    instance_id: str,
    at: Any = None,
    *,
    index: int | None = None,
    new_instance_id: str | None = None,
    input: Any = UNSET,
    replace_result: Mapping[int, Any] | None = None,
    replace_event_payload: Mapping[str | int, Any] | None = None,
    workflow: Any = None,
) -> str:
    """Start a new instance from ``instance_id``'s history up to a scheduling event.

    The new instance's history is the source's up to (not including) the event; its code
    replays that and runs on from there, making that call again. The source may be in any
    state; it is not changed.

    Args:
        runtime: the WorkflowRuntime (or DaprWorkflowClient) the source belongs to.
        at: the fork point: the event id of the scheduling event of an activity, a timer
            or a child workflow (the ids ``get_workflow_history`` reports), or a cursor's
            :class:`Frame` at such an event.
        index: the fork point as a position in the history, instead of ``at``.
        new_instance_id: the fork's id (default: a new uuid).
        input: a new input for the call at the fork point (not for a timer).
        replace_result: ``{task id: value}``: results of activities or child workflows
            before the fork point to replace (a failure becomes a success with ``value``).
        replace_event_payload: ``{event name or history position: value}``: payloads of
            external events raised before the fork point to replace (by name: each one
            raised with that name).
        workflow: edited workflow code to run the fork with (the registered code
            otherwise; re-registering the edited function under the same name works too).

    Returns:
        The fork's instance id. Its record names its origin (``origin_instance_id``,
        ``origin_event_id``); :func:`compare` puts the two histories side by side.

    Raises:
        ForkPointError: the fork point is not an activity, timer or child workflow
            scheduling event, or a replacement has nothing to replace.
        NonDeterminismError: the code does not replay the history before the fork point.
    """
    return start_fork(
        engine_of(runtime),
        instance_id,
        at=at,
        index=index,
        new_instance_id=new_instance_id,
        input=input,
        replace_result=replace_result,
        replace_event_payload=replace_event_payload,
        workflow=workflow,
    )


def rerun_from_event(
    engine: Any, instance_id: str, event_id: int, new_instance_id: str | None, input: Any
) -> str:
    """``DaprWorkflowClient.rerun_workflow_from_event``: a fork with Dapr's rules."""
    return start_fork(
        engine,
        instance_id,
        at=event_id,
        new_instance_id=new_instance_id,
        input=input,
        finished_only=True,
    )


# --------------------------------------------------------------------------- comparing
def _payload(event: HistoryEvent) -> str | None:
    for key in ("input", "result", "output"):
        value = getattr(event, key, None)
        if value is not None:
            return value
    failure = getattr(event, "failure", None)
    if failure is not None:
        return f"{failure.error_type}: {failure.message}"
    return None


def _task(event: HistoryEvent) -> int | None:
    if event.is_scheduling:
        return event.event_id
    if isinstance(event, TimerFired):
        return event.timer_id
    return getattr(event, "task_scheduled_id", None)


def _key(event: HistoryEvent) -> tuple[Any, ...]:
    return (event.kind, _task(event), event.name)


def _side(prefix: str, i: int | None, event: HistoryEvent | None) -> dict[str, Any]:
    if event is None:
        return {
            f"{prefix}_index": None,
            f"{prefix}_time": None,
            f"{prefix}_kind": None,
            f"{prefix}_task": None,
            f"{prefix}_name": None,
            f"{prefix}_payload": None,
        }
    return {
        f"{prefix}_index": i,
        f"{prefix}_time": event.timestamp,
        f"{prefix}_kind": event.kind,
        f"{prefix}_task": _task(event),
        f"{prefix}_name": event.name,
        f"{prefix}_payload": _payload(event),
    }


def compare_rows(a: list[HistoryEvent], b: list[HistoryEvent]) -> list[dict[str, Any]]:
    """Two histories aligned event by event: ``a_*`` and ``b_*`` columns (index, time,
    kind, task, name, payload) and ``change``: ``same``, ``payload`` (same event, other
    payload), ``changed`` (another event), ``only a`` or ``only b``."""
    ka, kb = [_key(e) for e in a], [_key(e) for e in b]
    rows: list[dict[str, Any]] = []

    def row(i: int | None, j: int | None, diff: str) -> None:
        ea = a[i] if i is not None else None
        eb = b[j] if j is not None else None
        rows.append({**_side("a", i, ea), "change": diff, **_side("b", j, eb)})

    matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                same = _payload(a[i]) == _payload(b[j])
                row(i, j, "same" if same else "payload")
        elif op == "replace":
            n = min(i2 - i1, j2 - j1)
            for k in range(n):
                row(i1 + k, j1 + k, "changed")
            for i in range(i1 + n, i2):
                row(i, None, "only a")
            for j in range(j1 + n, j2):
                row(None, j, "only b")
        elif op == "delete":
            for i in range(i1, i2):
                row(i, None, "only a")
        else:
            for j in range(j1, j2):
                row(None, j, "only b")
    return rows


_COLUMNS = [
    *(f"a_{c}" for c in ("index", "time", "kind", "task", "name", "payload")),
    "change",
    *(f"b_{c}" for c in ("index", "time", "kind", "task", "name", "payload")),
]


def compare(runtime: Any, a: str, b: str | None = None) -> Any:
    """Two instances' histories side by side, as a pandas DataFrame (see
    :func:`compare_rows` for the columns). With one instance id, that instance (a fork
    or a rerun) is compared with the one it started from, which is put on the left."""
    import pandas

    engine = engine_of(runtime)
    if b is None:
        record = engine._require(a)
        if record.origin_instance_id is None:
            raise ValueError(
                f"{a!r} is not a fork or a rerun (it names no origin); pass two instance ids"
            )
        a, b = record.origin_instance_id, a
    engine._require(a)
    engine._require(b)
    ha = [s.event for s in engine.store.history(a)]
    hb = [s.event for s in engine.store.history(b)]
    frame = pandas.DataFrame(compare_rows(ha, hb), columns=_COLUMNS)
    for column in ("a_index", "a_task", "b_index", "b_task"):
        frame[column] = frame[column].astype("Int64")
    frame.attrs["a"] = a
    frame.attrs["b"] = b
    return frame
