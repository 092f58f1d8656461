"""History propagation, as Dapr 1.19 has it: a workflow hands its history to a child
workflow or an activity it calls with ``propagation=PropagationScope.OWN_HISTORY`` (its
own events) or ``LINEAGE`` (its own events after those it received from its parent).

What is propagated follows Dapr's engine (durabletask-go): the caller's whole history at
the moment of the call, up to and including the event that schedules the callee, as one
chunk named by app, instance and workflow; a workflow that continues as new hands the
history it received, plus its previous generation, to its next generation.

Where Dapr's ``events`` are protobuf ``HistoryEvent`` messages, wfkit's are its own
history events (``TaskScheduled``, ``TaskCompleted``, ...), and a failure is a
:class:`FailureDetails`; the query methods and result types are Dapr's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from wfkit.core._errors import WfkitError
from wfkit.core._history import (
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceCreated,
    ChildWorkflowInstanceFailed,
    ExecutionStarted,
    FailureDetails,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    event_from_json,
    event_to_json,
)


class PropagationScope(Enum):
    """How much history a call hands to its callee (values as Dapr's protobuf enum)."""

    NONE = 0
    OWN_HISTORY = 1
    LINEAGE = 2


class PropagationNotFoundError(WfkitError):
    """A query on propagated history found nothing by that name."""


@dataclass(frozen=True)
class ActivityResult:
    """One activity call found in propagated history; ``input``/``output`` are JSON text."""

    name: str
    started: bool
    completed: bool
    failed: bool
    input: str | None
    output: str | None
    error: FailureDetails | None


@dataclass(frozen=True)
class ChildWorkflowResult:
    """One child workflow call found in propagated history."""

    name: str
    started: bool
    completed: bool
    failed: bool
    output: str | None
    error: FailureDetails | None


def _activity_result(events: list[HistoryEvent], scheduled: TaskScheduled) -> ActivityResult:
    completed = failed = False
    output: str | None = None
    error: FailureDetails | None = None
    for e in events:  # retries reuse the call's task id: the last outcome wins, as Dapr
        if isinstance(e, TaskCompleted) and e.task_scheduled_id == scheduled.task_id:
            completed, output = True, e.result
        elif isinstance(e, TaskFailed) and e.task_scheduled_id == scheduled.task_id:
            failed, error = True, e.failure
    return ActivityResult(
        scheduled.activity_name, True, completed, failed, scheduled.input, output, error
    )


def _child_result(
    events: list[HistoryEvent], created: ChildWorkflowInstanceCreated
) -> ChildWorkflowResult:
    completed = failed = False
    output: str | None = None
    error: FailureDetails | None = None
    for e in events:
        if isinstance(e, ChildWorkflowInstanceCompleted) and e.task_scheduled_id == created.task_id:
            completed, output = True, e.result
        elif isinstance(e, ChildWorkflowInstanceFailed) and e.task_scheduled_id == created.task_id:
            failed, error = True, e.failure
    return ChildWorkflowResult(created.workflow_name, True, completed, failed, output, error)


@dataclass(frozen=True)
class WorkflowResult:
    """One workflow's chunk of propagated history; queries return the latest match."""

    instance_id: str
    app_id: str
    name: str
    _events: list[HistoryEvent] = field(repr=False)

    def get_activities_by_name(self, name: str) -> list[ActivityResult]:
        return [
            _activity_result(self._events, e)
            for e in self._events
            if isinstance(e, TaskScheduled) and e.activity_name == name
        ]

    def get_last_activity_by_name(self, name: str) -> ActivityResult:
        found = self.get_activities_by_name(name)
        if not found:
            raise PropagationNotFoundError(
                f"no activity named {name!r} in propagated history for workflow {self.name!r}"
            )
        return found[-1]

    def get_child_workflows_by_name(self, name: str) -> list[ChildWorkflowResult]:
        return [
            _child_result(self._events, e)
            for e in self._events
            if isinstance(e, ChildWorkflowInstanceCreated) and e.workflow_name == name
        ]

    def get_last_child_workflow_by_name(self, name: str) -> ChildWorkflowResult:
        found = self.get_child_workflows_by_name(name)
        if not found:
            raise PropagationNotFoundError(
                f"no child workflow named {name!r} in propagated history for workflow {self.name!r}"
            )
        return found[-1]


@dataclass(frozen=True)
class _HistoryChunk:
    app_id: str
    instance_id: str
    workflow_name: str
    start_event_index: int
    event_count: int


class PropagatedHistory:
    """History handed down by the calling workflow(s): chunks oldest ancestor first, the
    immediate caller last. ``events`` is every chunk's events in that order (read-only)."""

    def __init__(
        self, events: list[HistoryEvent], scope: PropagationScope, chunks: list[_HistoryChunk]
    ):
        self.events = events
        self.scope = scope
        self._chunks = chunks

    def _chunk_events(self, chunk: _HistoryChunk) -> list[HistoryEvent]:
        return self.events[chunk.start_event_index : chunk.start_event_index + chunk.event_count]

    def _events_where(self, **match: str) -> list[HistoryEvent]:
        return [
            event
            for chunk in self._chunks
            if all(getattr(chunk, key) == value for key, value in match.items())
            for event in self._chunk_events(chunk)
        ]

    def get_app_ids(self) -> list[str]:
        return list(dict.fromkeys(c.app_id for c in self._chunks))

    def get_events_by_app_id(self, app_id: str) -> list[HistoryEvent]:
        return self._events_where(app_id=app_id)

    def get_events_by_instance_id(self, instance_id: str) -> list[HistoryEvent]:
        return self._events_where(instance_id=instance_id)

    def get_events_by_workflow_name(self, workflow_name: str) -> list[HistoryEvent]:
        return self._events_where(workflow_name=workflow_name)

    def _result(self, chunk: _HistoryChunk) -> WorkflowResult:
        return WorkflowResult(
            chunk.instance_id, chunk.app_id, chunk.workflow_name, self._chunk_events(chunk)
        )

    def get_workflows(self) -> list[WorkflowResult]:
        return [self._result(c) for c in self._chunks]

    def get_workflows_by_name(self, name: str) -> list[WorkflowResult]:
        return [self._result(c) for c in self._chunks if c.workflow_name == name]

    def get_last_workflow_by_name(self, name: str) -> WorkflowResult:
        found = self.get_workflows_by_name(name)
        if not found:
            raise PropagationNotFoundError(f"no workflow named {name!r} in propagated history")
        return found[-1]

    def __repr__(self) -> str:
        return (
            f"<PropagatedHistory {self.scope.name} {self.get_app_ids()} {len(self.events)} events>"
        )

    # ------------------------------------------------------------------ building and storing
    def chunks_and_events(self) -> list[tuple[_HistoryChunk, list[HistoryEvent]]]:
        """Each chunk with its events, oldest chunk first (what a caller hands on)."""
        return [(c, self._chunk_events(c)) for c in self._chunks]

    @classmethod
    def assemble(
        cls,
        scope: PropagationScope,
        own_events: list[HistoryEvent],
        received: PropagatedHistory | None,
        *,
        app_id: str,
        instance_id: str,
    ) -> PropagatedHistory | None:
        """What a caller hands down: ``None`` for NONE; for LINEAGE the chunks it received
        first; then its own events as one chunk."""
        if scope is PropagationScope.NONE:
            return None
        parts: list[tuple[_HistoryChunk, list[HistoryEvent]]] = []
        if scope is PropagationScope.LINEAGE and received is not None:
            parts = received.chunks_and_events()
        if own_events:
            name = next(
                (e.workflow_name for e in own_events if isinstance(e, ExecutionStarted)), ""
            )
            parts.append((_HistoryChunk(app_id, instance_id, name, 0, 0), list(own_events)))
        return cls._of_parts(scope, parts)

    @classmethod
    def _of_parts(
        cls, scope: PropagationScope, parts: list[tuple[_HistoryChunk, list[HistoryEvent]]]
    ) -> PropagatedHistory:
        events: list[HistoryEvent] = []
        chunks: list[_HistoryChunk] = []
        for chunk, chunk_events in parts:
            chunks.append(
                _HistoryChunk(
                    chunk.app_id,
                    chunk.instance_id,
                    chunk.workflow_name,
                    len(events),
                    len(chunk_events),
                )
            )
            events.extend(chunk_events)
        return cls(events, scope, chunks)

    def to_json(self) -> str:
        """JSON text of this history (as stored with the callee's ``ExecutionStarted``)."""
        return json.dumps(
            {
                "scope": self.scope.value,
                "chunks": [
                    {
                        "app_id": c.app_id,
                        "instance_id": c.instance_id,
                        "workflow_name": c.workflow_name,
                        "events": [event_to_json(e) for e in self._chunk_events(c)],
                    }
                    for c in self._chunks
                ],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PropagatedHistory:
        data = json.loads(text)
        parts = [
            (
                _HistoryChunk(c["app_id"], c["instance_id"], c["workflow_name"], 0, 0),
                [event_from_json(e) for e in c["events"]],
            )
            for c in data["chunks"]
        ]
        return cls._of_parts(PropagationScope(data["scope"]), parts)


def scope_of(propagation: Any) -> PropagationScope:
    """The scope a ``propagation=`` argument names (None is NONE; Dapr's enum works too)."""
    if propagation is None:
        return PropagationScope.NONE
    value = getattr(propagation, "value", propagation)
    try:
        return PropagationScope(value)
    except ValueError:
        raise ValueError(
            f"propagation must be a PropagationScope (NONE, OWN_HISTORY or LINEAGE) or None, "
            f"not {propagation!r}"
        ) from None
