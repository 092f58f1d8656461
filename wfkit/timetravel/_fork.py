"""Forks from a user's side (:func:`fork`, which starts them with
``wfkit.runtime``'s machinery) and comparing two histories (:func:`compare`)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from wfkit.core._history import HistoryEvent, TimerFired
from wfkit.core._orchestration import WorkflowInvoker
from wfkit.core._state import UNSET
from wfkit.inspect._histories import History
from wfkit.inspect._workflow_code import WorkflowCode, resolve_workflow
from wfkit.runtime._fork import ForkPointError, fork_points, start_fork
from wfkit.runtime._seam import LocalEngine, engine_of, local_engine_of
from wfkit.timetravel._frame import Frame

__all__ = ["ForkPointError", "compare", "compare_rows", "fork", "fork_points"]


def fork(
    runtime: object,
    instance_id: str,
    at: int | Frame | HistoryEvent | None = None,
    *,
    index: int | None = None,
    new_instance_id: str | None = None,
    input: Any = UNSET,
    replace_result: Mapping[int, Any] | None = None,
    replace_event_payload: Mapping[str | int, Any] | None = None,
    workflow: WorkflowCode | None = None,
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
    engine = local_engine_of(runtime, doing="a fork")
    if isinstance(at, Frame):
        index = at.index
        at = None
    return start_fork(
        engine,
        instance_id,
        at=at,
        index=index,
        new_instance_id=new_instance_id,
        input=input,
        replace_result=replace_result,
        replace_event_payload=replace_event_payload,
        workflow=_fork_code(engine, instance_id, workflow),
    )


def _fork_code(
    engine: LocalEngine, instance_id: str, workflow: WorkflowCode | None
) -> WorkflowInvoker | None:
    """The code a fork runs with: ``workflow`` resolved (a name, a function), or None
    for the source's own."""
    if workflow is None:
        return None
    named = History((), instance_id=instance_id, workflow=engine.require(instance_id).name)
    return resolve_workflow(workflow, engine, named)


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


def compare(runtime: object, a: str, b: str | None = None) -> Any:
    """Two instances' histories side by side, as a pandas DataFrame (see
    :func:`compare_rows` for the columns). With one instance id, that instance (a fork
    or a rerun) is compared with the one it started from, which is put on the left."""
    import pandas

    engine = engine_of(runtime)
    if b is None:
        record = engine.require(a)
        if record.origin_instance_id is None:
            raise ValueError(
                f"{a!r} is not a fork or a rerun (it names no origin); pass two instance ids"
            )
        a, b = record.origin_instance_id, a
    engine.require(a)
    engine.require(b)
    ha = [s.event for s in engine.store.history(a)]
    hb = [s.event for s in engine.store.history(b)]
    frame = pandas.DataFrame(compare_rows(ha, hb), columns=_COLUMNS)
    for column in ("a_index", "a_task", "b_index", "b_task"):
        frame[column] = frame[column].astype("Int64")
    frame.attrs["a"] = a
    frame.attrs["b"] = b
    return frame
