"""Calls between the apps of one process: activities run here for another app's
instance, and child workflows started here for another app's parent.

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from wfkit.core._errors import (
    AppNotFoundError,
)
from wfkit.core._history import (
    ChildWorkflowInstanceCreated,
    ChildWorkflowInstanceFailed,
    FailureDetails,
    HistoryEvent,
)
from wfkit.runtime import _apps
from wfkit.runtime._instances import (
    ActivityCall,
)

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


def run_for(self: Engine, call: ActivityCall) -> None:
    """Run an activity call another app's instance made here (``call.origin`` gets the
    result)."""
    with self._lock:
        if self.running:
            self._submit([call])
            return
    stopped = AppNotFoundError(
        f"app {self.app_id!r} stopped before it could run activity "
        f"{call.decision.activity_name!r}; start its runtime again"
    )
    call.origin.activities_done([(call, None, stopped)])


def adopt_child(
    self: Engine,
    origin: Engine,
    parent_id: str,
    call: ChildWorkflowInstanceCreated,
    propagated: str | None = None,
) -> None:
    """Run a child workflow here for a parent of another app (``origin``); a parent
    replayed after a restart asks again, and finds its child running or its result."""
    with self._lock:
        self._ensure_recovered()
        self._parents[call.instance_id] = origin
        record = self._records.get(call.instance_id)
        if call.instance_id in self._live:
            return
        if (
            record is not None
            and record.status.is_terminal
            and (record.parent_instance_id, record.parent_task_id) == (parent_id, call.task_id)
        ):  # a replayed parent asking for what it was owed (a retry has a new task id)
            event = self._child_result(record, call.task_id, self.clock.now())
            self._parents.pop(call.instance_id)
            _apps.post(functools.partial(origin.child_done, parent_id, call.instance_id, event))
            return
        child = self._create(
            call.instance_id,
            call.workflow_name,
            call.input,
            None,
            parent=(parent_id, call.task_id),
        )
        child.propagated = propagated
        self._commit()
        self._wake.notify()


def child_done(self: Engine, parent_id: str, child_id: str, event: HistoryEvent) -> None:
    """The result of a child workflow that ran on another app."""
    with self._lock:
        live = self._live.get(parent_id)
        if live is not None and live.children.get(child_id) == event.task_scheduled_id:  # type: ignore[attr-defined]
            self._enqueue(live, event)


def child_failed(
    self: Engine, parent_id: str, call: ChildWorkflowInstanceCreated, error: Exception
) -> None:
    """A child workflow that could not start on another app."""
    event = ChildWorkflowInstanceFailed(
        timestamp=self.clock.now(),
        task_scheduled_id=call.task_id,
        failure=FailureDetails.of(error),
    )
    self.child_done(parent_id, call.instance_id, event)
