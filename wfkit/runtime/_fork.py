"""Forks: a new instance that starts from another's history up to a scheduling event.

This is Dapr's rerun-from-event generalised: the new instance's history is the source's
up to (not including) the scheduling event of an activity, timer or child workflow; the
code replays that prefix and runs on from there, making that call again. A fork can
change what the prefix says (an activity's result, an external event's payload), the
input of the call it restarts at, and the code itself. The client's
``rerun_workflow_from_event`` is a fork with Dapr's rules (a finished, top-level source);
``wfkit.timetravel.fork`` is the one users call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wfkit.core import _serde
from wfkit.core._errors import InvalidInstanceStateError, NonDeterminismError, WfkitError
from wfkit.core._gc import gc_paused
from wfkit.core._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceFailed,
    EventRaised,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TimerCreated,
)
from wfkit.core._orchestration import Orchestration, WorkflowInvoker, describe_decision
from wfkit.core._state import UNSET, InstanceRecord, WorkflowStatus, random_instance_id
from wfkit.runtime._seam import LocalEngine, local_engine_of

_TASK_RESULTS = (TaskCompleted, TaskFailed)
_CHILD_RESULTS = (ChildWorkflowInstanceCompleted, ChildWorkflowInstanceFailed)
#: Fork points a message lists before it says how many more there are.
_SHOWN_POINTS = 12


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
    shown = ", ".join(
        f"event id {eid} (position {i}: {what})" for i, eid, what in points[:_SHOWN_POINTS]
    )
    more = f", and {len(points) - _SHOWN_POINTS} more" if len(points) > _SHOWN_POINTS else ""
    return f"fork points: {shown}{more}"


def _position_of_index(events: list[HistoryEvent], instance_id: str, index: int) -> int:
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


def fork_position(
    events: list[HistoryEvent], instance_id: str, at: object, index: int | None
) -> int:
    """The position in ``events`` of the fork point given as an event id (or the event
    itself) ``at``, or as a history position ``index``."""
    if isinstance(at, HistoryEvent):
        at = at.event_id
    if (at is None) == (index is None):
        raise TypeError("pass the fork point as at=<event id> or index=<history position>")
    if index is not None:
        return _position_of_index(events, instance_id, index)
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
    results = _TASK_RESULTS + _CHILD_RESULTS
    for task_id, value in changes.items():
        hits = [
            i
            for i, e in enumerate(out)
            if isinstance(e, results) and e.task_scheduled_id == task_id
        ]
        if not hits:
            have = sorted({e.task_scheduled_id for e in out if isinstance(e, results)})
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


def _raised_positions(events: list[HistoryEvent], key: str | int) -> list[int]:
    if isinstance(key, int):
        return [key] if 0 <= key < len(events) and isinstance(events[key], EventRaised) else []
    wanted = str(key).casefold()
    return [
        i
        for i, e in enumerate(events)
        if isinstance(e, EventRaised) and e.event_name.casefold() == wanted
    ]


def _replace_payloads(
    prefix: list[HistoryEvent], changes: Mapping[str | int, Any], limit: int | None
) -> list[HistoryEvent]:
    out = list(prefix)
    for key, value in changes.items():
        hits = _raised_positions(out, key)
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


def _check_prefix(prefix: list[HistoryEvent], code: WorkflowInvoker, instance_id: str) -> None:
    """The code must replay the prefix: else the fork would fail at once."""
    orchestration = Orchestration(instance_id, lambda name: code)
    with gc_paused():
        for position, event in enumerate(prefix):
            orchestration.apply(event, replaying=True, position=position)
    failure = orchestration.replay_failure
    if failure is not None:
        raise NonDeterminismError(
            "cannot fork: the workflow code does not replay the history before the fork "
            f"point. {failure.message} (check_replay shows where the code and the history "
            "part; a replaced result that changes the code's path needs a fork point right "
            "after that result)"
        )


def _check_rerun_source(source: InstanceRecord) -> None:
    """Dapr's rules for a rerun: the source has finished and is not a child workflow."""
    instance_id = source.instance_id
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


def _new_instance_id(instance_id: str, new_instance_id: str | None) -> str:
    new_id = new_instance_id or random_instance_id()
    if new_id == instance_id:
        raise InvalidInstanceStateError(
            f"a fork needs an instance id of its own, not its source's ({instance_id!r})"
        )
    return new_id


def _fork_record(
    source: InstanceRecord, new_id: str, event_id: int, engine: LocalEngine
) -> InstanceRecord:
    now = engine.now()
    return InstanceRecord(
        instance_id=new_id,
        name=source.name,
        status=WorkflowStatus.RUNNING,
        created_at=now,
        last_updated_at=now,
        input=source.input,
        origin_instance_id=source.instance_id,
        origin_event_id=event_id,
    )


def start_fork(
    engine: LocalEngine,
    instance_id: str,
    *,
    at: int | HistoryEvent | None = None,
    index: int | None = None,
    new_instance_id: str | None = None,
    input: Any = UNSET,
    replace_result: Mapping[int, Any] | None = None,
    replace_event_payload: Mapping[str | int, Any] | None = None,
    workflow: WorkflowInvoker | None = None,
    finished_only: bool = False,
) -> str:
    """Start a fork of ``instance_id`` (see ``wfkit.timetravel.fork``) and return its id.
    ``workflow`` is the code to run it with (default: the source's); ``finished_only``
    applies Dapr's rerun rules (the source has finished and is not a child workflow)."""
    if new_instance_id is not None and (
        not isinstance(new_instance_id, str) or not new_instance_id
    ):
        raise ValueError("new_instance_id must be None or a non-empty string")
    source = engine.require(instance_id)
    if finished_only:
        _check_rerun_source(source)
    new_id = _new_instance_id(instance_id, new_instance_id)
    events = engine.history(instance_id)
    cut = fork_position(events, instance_id, at, index)
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
    code = workflow or engine.pinned_code(instance_id)  # a fork of a fork keeps its code
    _check_prefix(prefix, code or engine.workflow_code(instance_id, source.name), new_id)
    override = None
    if input is not UNSET:
        encoded = _serde.encode(
            input, what=f"input of the call at event {target.event_id}", limit=engine.limit
        )
        override = (target.event_id, encoded)
    record = _fork_record(source, new_id, target.event_id, engine)
    return engine.start_from_history(record, prefix, override=override, workflow=code)


def rerun_from_event(
    source: object, instance_id: str, event_id: int, new_instance_id: str | None, input: Any
) -> str:
    """``DaprWorkflowClient.rerun_workflow_from_event``: a fork with Dapr's rules."""
    return start_fork(
        local_engine_of(source, doing="a rerun"),
        instance_id,
        at=event_id,
        new_instance_id=new_instance_id,
        input=input,
        finished_only=True,
    )
