"""A stand-in for the Dapr sidecar, driving an orchestration engine offline.

:class:`Sidecar` keeps each instance's history, runs one episode at a time (each starts
with a ``workflowStarted`` event at the sidecar's virtual time), turns the actions the
engine returns into history events, runs activities synchronously (the same Python
functions), fires timers on a virtual clock in (fire time, creation) order (never the
optional sentinel timer that an indefinite wait reserves), delivers external events,
runs child workflows as instances of their own and reports their end to the parent,
and handles continue-as-new, suspend, resume and (recursive) terminate.

The engine is pluggable:

* :class:`DaprEngine` is Dapr's own: the vendored durabletask ``_OrchestrationExecutor``
  fed protobuf history (old events and new events, a fresh executor per episode, as
  Dapr's worker does), with workflows registered through Dapr's real
  ``WorkflowRuntime.register_workflow`` wrapper so the code sees ``DaprWorkflowContext``.
* :class:`WfkitEngine` is wfkit's pure executor (``wfkit.core._orchestration.Orchestration``)
  kept warm between episodes, with the history it would store, for cold replays.

Both see exactly the same deliveries when driven with the same schedule, so whatever
differs in their reports is a difference of the engines.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dapr.ext.workflow as dapr_wf
from dapr.ext.workflow._durabletask import worker as dapr_worker
from dapr.ext.workflow._durabletask.internal import helpers as ph
from dapr.ext.workflow._durabletask.internal import protos as pb
from dapr.ext.workflow._durabletask.internal import shared as dapr_shared
from dapr.ext.workflow.logger import LoggerOptions

import wfkit
from wfkit.core import _history as wh
from wfkit.core import _serde
from wfkit.core._orchestration import Orchestration
from wfkit.core._registry import Registry

#: Fire time of the optional timer an indefinite wait reserves; it never fires.
SENTINEL = datetime(9999, 12, 31, 23, 59, 59, 999999)

TERMINAL = ("COMPLETED", "FAILED", "TERMINATED")

_QUIET = logging.getLogger("wfkit.conformance.dapr")
_QUIET.setLevel(logging.CRITICAL)
for _name in ("WorkflowRuntime", "DaprWorkflowContext"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)
_DAPR_LOGGER_OPTIONS = LoggerOptions(log_level=logging.CRITICAL, log_handler=logging.NullHandler())


# --------------------------------------------------------------------------- neutral model
@dataclass(frozen=True)
class Action:
    """One decision of an orchestrator, as both engines can describe it."""

    kind: str  # "activity" | "timer" | "child"
    task_id: int
    #: Activity or workflow name; for a timer, its origin ("create_timer",
    #: "external_event:<event name>", "activity_retry", "child_workflow_retry").
    name: str
    fire_at: datetime | None = None
    input: Any = None  # decoded
    instance_id: str | None = None  # of a child


@dataclass(frozen=True)
class Failure:
    error_type: str
    message: str


@dataclass
class Outcome:
    status: str  # COMPLETED | FAILED | TERMINATED | CONTINUED_AS_NEW
    result: str | None = None  # JSON text (the new input, for CONTINUED_AS_NEW)
    failure: Failure | None = None
    carryover: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class EpisodeResult:
    actions: list[Action]
    outcome: Outcome | None
    custom_status: str | None
    suspended: bool


@dataclass
class Report:
    """How an instance ended (or where it stands), comparable across engines."""

    status: str
    result: Any = None  # decoded
    failure: Failure | None = None
    custom_status: str | None = None
    actions: list[Action] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "result": self.result,
            "failure": self.failure,
            "custom_status": self.custom_status,
            "actions": [
                (a.kind, a.name, a.task_id, a.fire_at, a.input, a.instance_id) for a in self.actions
            ],
        }


def decode(text: str | None) -> Any:
    return None if text is None or text == "" else json.loads(text)


# Neutral inbox events: plain tuples.
#   ("started", name, input) ("task_completed", id, result) ("task_failed", id, Failure)
#   ("timer_fired", id, fire_at) ("event", name, input) ("child_completed", id, result)
#   ("child_failed", id, Failure) ("suspend",) ("resume",) ("terminate", output)
Event = tuple[Any, ...]


# --------------------------------------------------------------------------- Dapr's engine
def _timer_origin_label(kind: str | None, origin: Any) -> str:
    if kind == "externalEvent":
        return f"external_event:{origin.name}"
    return {
        "createTimer": "create_timer",
        "activityRetry": "activity_retry",
        "childWorkflowRetry": "child_workflow_retry",
        None: "create_timer",
    }[kind]


def _pb_failure(failure: Failure) -> pb.TaskFailureDetails:
    return pb.TaskFailureDetails(errorType=failure.error_type, errorMessage=failure.message)


def _string_value(value: Any) -> str | None:
    return None if ph.is_empty(value) else value.value


def _unflag(fn: Callable[..., Any], flag: str) -> Callable[..., Any]:
    """Let Dapr's runtime register a function object it registered before (in another run)."""
    fn.__dict__.pop(flag, None)
    return fn


class DaprEngine:
    """Dapr's vendored durabletask executor, with Dapr's registration wrappers."""

    name = "dapr"
    module = dapr_wf

    def __init__(self, workflows: Iterable[Callable[..., Any]], activities: Iterable[Callable]):
        runtime = dapr_wf.WorkflowRuntime(logger_options=_DAPR_LOGGER_OPTIONS)
        for fn in workflows:
            runtime.register_workflow(_unflag(fn, "_workflow_registered"))
        for fn in activities:
            runtime.register_activity(_unflag(fn, "_activity_registered"))
        self.registry: dapr_worker._Registry = runtime._WorkflowRuntime__worker._registry  # type: ignore[attr-defined]
        self._activity_executor = dapr_worker._ActivityExecutor(_QUIET)

    @staticmethod
    def encode_client_payload(value: Any) -> str | None:
        """What Dapr's client sends for event data and terminate output (falsy: nothing)."""
        return dapr_shared.to_json(value) if value else None

    def new_instance(self, instance_id: str) -> DaprInstance:
        return DaprInstance(self, instance_id)

    def run_activity(
        self, instance_id: str, action: Action, encoded_input: str | None, execution_id: str
    ) -> tuple[str | None, Failure | None]:
        fn = self.registry.get_activity(action.name)
        try:
            result = self._activity_executor.execute(
                fn,
                instance_id,
                action.name,
                action.task_id,
                encoded_input or "",
                execution_id,
            )
        except Exception as exc:
            return None, Failure(type(exc).__name__, str(exc))
        return result, None


class DaprInstance:
    """One instance's protobuf history, run through a fresh executor per episode."""

    def __init__(self, engine: DaprEngine, instance_id: str):
        self.engine = engine
        self.instance_id = instance_id
        self.history: list[pb.HistoryEvent] = []

    def begin(self) -> None:
        self.history = []

    def _event(self, event: Event) -> pb.HistoryEvent:
        kind = event[0]
        if kind == "started":
            return ph.new_execution_started_event(event[1], self.instance_id, event[2])
        if kind == "task_completed":
            return ph.new_task_completed_event(event[1], event[2])
        if kind == "task_failed":
            return pb.HistoryEvent(
                eventId=-1,
                taskFailed=pb.TaskFailedEvent(
                    taskScheduledId=event[1], failureDetails=_pb_failure(event[2])
                ),
            )
        if kind == "timer_fired":
            return ph.new_timer_fired_event(event[1], event[2])
        if kind == "event":
            return ph.new_event_raised_event(event[1], event[2])
        if kind == "child_completed":
            return ph.new_child_workflow_completed_event(event[1], event[2])
        if kind == "child_failed":
            return pb.HistoryEvent(
                eventId=-1,
                childWorkflowInstanceFailed=pb.ChildWorkflowInstanceFailedEvent(
                    taskScheduledId=event[1], failureDetails=_pb_failure(event[2])
                ),
            )
        if kind == "suspend":
            return ph.new_suspend_event()
        if kind == "resume":
            return ph.new_resume_event()
        if kind == "terminate":
            return ph.new_terminated_event(encoded_output=event[1])
        raise ValueError(f"unknown event {event!r}")

    def episode(self, now: datetime, events: Sequence[Event]) -> EpisodeResult:
        new = [ph.new_workflow_started_event(now)]
        for event in events:
            pb_event = self._event(event)
            pb_event.timestamp.FromDatetime(now)
            new.append(pb_event)
        executor = dapr_worker._OrchestrationExecutor(self.engine.registry, _QUIET)
        results = executor.execute(self.instance_id, self.history, new)
        self.history.extend(new)
        actions: list[Action] = []
        outcome: Outcome | None = None
        for action in results.actions:
            which = action.WhichOneof("workflowActionType")
            if which == "scheduleTask":
                a = action.scheduleTask
                encoded = _string_value(a.input)
                actions.append(Action("activity", action.id, a.name, input=decode(encoded)))
                scheduled = ph.new_task_scheduled_event(action.id, a.name, encoded)
                scheduled.taskScheduled.taskExecutionId = a.taskExecutionId
                self.history.append(scheduled)
            elif which == "createTimer":
                a = action.createTimer
                origin = a.WhichOneof("origin")
                label = _timer_origin_label(origin, getattr(a, origin) if origin else None)
                actions.append(Action("timer", action.id, label, fire_at=a.fireAt.ToDatetime()))
                created = pb.HistoryEvent(eventId=action.id, timerCreated=pb.TimerCreatedEvent())
                created.timerCreated.fireAt.CopyFrom(a.fireAt)
                if origin:
                    getattr(created.timerCreated, origin).CopyFrom(getattr(a, origin))
                self.history.append(created)
            elif which == "createChildWorkflow":
                a = action.createChildWorkflow
                encoded = _string_value(a.input)
                actions.append(
                    Action(
                        "child", action.id, a.name, input=decode(encoded), instance_id=a.instanceId
                    )
                )
                self.history.append(
                    ph.new_child_workflow_created_event(action.id, a.name, a.instanceId, encoded)
                )
            elif which == "completeWorkflow":
                a = action.completeWorkflow
                status = ph.get_orchestration_status_str(a.workflowStatus)
                failure = None
                if a.HasField("failureDetails"):
                    failure = Failure(a.failureDetails.errorType, a.failureDetails.errorMessage)
                carryover = [
                    (e.eventRaised.name, _string_value(e.eventRaised.input))
                    for e in a.carryoverEvents
                ]
                outcome = Outcome(status, _string_value(a.result), failure, carryover)
                self.history.append(
                    pb.HistoryEvent(
                        eventId=-1,
                        executionCompleted=pb.ExecutionCompletedEvent(
                            workflowStatus=a.workflowStatus,
                            result=a.result if a.HasField("result") else None,
                            failureDetails=a.failureDetails
                            if a.HasField("failureDetails")
                            else None,
                        ),
                    )
                )
            else:
                raise AssertionError(f"the driver does not handle {which} actions")
        return EpisodeResult(
            actions, outcome, results.encoded_custom_status, executor._is_suspended
        )


# --------------------------------------------------------------------------- wfkit's engine
class WfkitEngine:
    """wfkit's pure executor, warm across episodes; keeps the history wfkit would store."""

    name = "wfkit"
    module = wfkit

    def __init__(self, workflows: Iterable[Callable[..., Any]], activities: Iterable[Callable]):
        self.registry = Registry()
        for fn in workflows:
            self.registry.add("workflow", fn, None)
        for fn in activities:
            self.registry.add("activity", fn, None)

    @staticmethod
    def encode_client_payload(value: Any) -> str | None:
        return _serde.encode(value)

    def new_instance(self, instance_id: str) -> WfkitInstance:
        return WfkitInstance(self, instance_id)

    def run_activity(
        self, instance_id: str, action: Action, encoded_input: str | None, execution_id: str
    ) -> tuple[str | None, Failure | None]:
        try:
            activity = self.registry.activity(action.name)
            ctx = wfkit.WorkflowActivityContext(instance_id, action.task_id, execution_id)
            return _serde.encode(activity.invoke(ctx, encoded_input)), None
        except Exception as exc:
            return None, Failure(type(exc).__name__, str(exc))


def _wh_failure(failure: Failure) -> wh.FailureDetails:
    return wh.FailureDetails(failure.message, failure.error_type)


def wfkit_action(event: wh.HistoryEvent) -> Action | None:
    """The action a wfkit decision event records (None for other events)."""
    if isinstance(event, wh.TaskScheduled):
        return Action("activity", event.task_id, event.activity_name, input=decode(event.input))
    if isinstance(event, wh.TimerCreated):
        label = event.origin
        if label == "external_event":
            label = f"external_event:{event.origin_name}"
        return Action("timer", event.task_id, label, fire_at=event.fire_at)
    if isinstance(event, wh.ChildWorkflowInstanceCreated):
        return Action(
            "child",
            event.task_id,
            event.workflow_name,
            input=decode(event.input),
            instance_id=event.instance_id,
        )
    return None


def wfkit_outcome(outcome: Any) -> Outcome | None:
    if outcome is None:
        return None
    failure = None
    if outcome.failure is not None:
        failure = Failure(outcome.failure.error_type, outcome.failure.message)
    carryover = [(name, _serde.encode(value)) for name, value in outcome.carryover]
    return Outcome(outcome.status, outcome.result, failure, carryover)


class WfkitInstance:
    def __init__(self, engine: WfkitEngine, instance_id: str):
        self.engine = engine
        self.instance_id = instance_id
        self.orchestration: Orchestration | None = None
        self.history: list[wh.HistoryEvent] = []
        #: Every generation's history (continue-as-new starts a new one).
        self.generations: list[list[wh.HistoryEvent]] = []

    def begin(self) -> None:
        self.orchestration = Orchestration(self.instance_id, self.engine.registry.workflow)
        self.history = []
        self.generations.append(self.history)

    def _event(self, event: Event, now: datetime) -> wh.HistoryEvent:
        kind = event[0]
        if kind == "started":
            return wh.ExecutionStarted(timestamp=now, workflow_name=event[1], input=event[2])
        if kind == "task_completed":
            return wh.TaskCompleted(timestamp=now, task_scheduled_id=event[1], result=event[2])
        if kind == "task_failed":
            return wh.TaskFailed(
                timestamp=now, task_scheduled_id=event[1], failure=_wh_failure(event[2])
            )
        if kind == "timer_fired":
            return wh.TimerFired(timestamp=now, timer_id=event[1], fire_at=event[2])
        if kind == "event":
            return wh.EventRaised(timestamp=now, event_name=event[1], input=event[2])
        if kind == "child_completed":
            return wh.ChildWorkflowInstanceCompleted(
                timestamp=now, task_scheduled_id=event[1], result=event[2]
            )
        if kind == "child_failed":
            return wh.ChildWorkflowInstanceFailed(
                timestamp=now, task_scheduled_id=event[1], failure=_wh_failure(event[2])
            )
        if kind == "suspend":
            return wh.ExecutionSuspended(timestamp=now)
        if kind == "resume":
            return wh.ExecutionResumed(timestamp=now)
        if kind == "terminate":
            return wh.ExecutionTerminated(timestamp=now, output=event[1])
        raise ValueError(f"unknown event {event!r}")

    def episode(self, now: datetime, events: Sequence[Event]) -> EpisodeResult:
        orchestration = self.orchestration
        assert orchestration is not None
        new = [wh.WorkflowStarted(timestamp=now)] + [self._event(e, now) for e in events]
        for event in new:
            orchestration.apply(event, replaying=False)
        decisions = orchestration.take_decisions()
        outcome = wfkit_outcome(orchestration.outcome)
        self.history.extend(new)
        self.history.extend(decisions)
        if outcome is not None and outcome.status != "CONTINUED_AS_NEW":
            raw = orchestration.outcome
            self.history.append(
                wh.ExecutionCompleted(
                    timestamp=now, status=raw.status, result=raw.result, failure=raw.failure
                )
            )
        actions = [a for a in map(wfkit_action, decisions) if a is not None]
        return EpisodeResult(
            actions, outcome, orchestration.custom_status, orchestration.is_suspended
        )


# --------------------------------------------------------------------------- the sidecar
@dataclass
class _Call:
    instance_id: str
    generation: int
    action: Action
    encoded_input: str | None
    execution_id: str


@dataclass
class Instance:
    instance_id: str
    name: str
    input: str | None
    parent: tuple[str, int] | None
    engine: Any
    status: str = "PENDING"
    result: str | None = None
    failure: Failure | None = None
    custom_status: str | None = None
    generation: int = 0
    started: bool = False
    inbox: list[Event] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    children: dict[str, int] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.status not in TERMINAL

    def report(self) -> Report:
        return Report(
            self.status,
            decode(self.result),
            self.failure,
            self.custom_status,
            list(self.actions),
        )


class Sidecar:
    """Plays the sidecar for one engine, on a virtual clock that moves only when told."""

    def __init__(self, engine: DaprEngine | WfkitEngine, start: datetime, *, max_episodes=10_000):
        self.engine = engine
        self.now = start
        self.instances: dict[str, Instance] = {}
        self._ready: dict[str, None] = {}
        self._calls: list[_Call] = []
        self._timers: list[tuple[datetime, int, str, int, int]] = []
        self._order = itertools.count()
        self._budget = max_episodes

    @property
    def module(self) -> Any:
        return self.engine.module

    # ------------------------------------------------------------------ client side
    def schedule(self, workflow: Callable[..., Any] | str, input: Any = None, *, instance_id: str):
        name = workflow if isinstance(workflow, str) else workflow.__name__
        encoded = None if input is None else dapr_shared.to_json(input)
        self._create(instance_id, name, encoded, None)
        return instance_id

    def _create(
        self, instance_id: str, name: str, encoded: str | None, parent: tuple[str, int] | None
    ) -> Instance:
        existing = self.instances.get(instance_id)
        if existing is not None and existing.live:
            raise AssertionError(f"instance {instance_id!r} is already running")
        inst = Instance(instance_id, name, encoded, parent, self.engine.new_instance(instance_id))
        if existing is not None:  # a reused id (a retried child): report every run's actions
            inst.actions = existing.actions
        self.instances[instance_id] = inst
        self._ready[instance_id] = None
        return inst

    def _command(self, instance_id: str, event: Event) -> bool:
        inst = self.instances[instance_id]
        if not inst.live:
            return False
        inst.inbox.append(event)
        self._ready[instance_id] = None
        return True

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> bool:
        return self._command(instance_id, ("event", name, self.engine.encode_client_payload(data)))

    def suspend(self, instance_id: str) -> bool:
        return self._command(instance_id, ("suspend",))

    def resume(self, instance_id: str) -> bool:
        return self._command(instance_id, ("resume",))

    def terminate(self, instance_id: str, output: Any = None, *, recursive: bool = True) -> bool:
        encoded = self.engine.encode_client_payload(output)
        if not recursive:
            raise NotImplementedError("non-recursive terminate")
        return self._command(instance_id, ("terminate", encoded))

    # ------------------------------------------------------------------ running
    def run_episode(self, instance_id: str) -> None:
        self._ready.pop(instance_id, None)
        inst = self.instances[instance_id]
        if not inst.live:
            return
        self._budget -= 1
        if self._budget < 0:
            raise AssertionError("the driver ran too many episodes (a workflow that never ends?)")
        events = inst.inbox
        inst.inbox = []
        if not inst.started:
            inst.started = True
            inst.engine.begin()
            inst.status = "RUNNING"
            events = [("started", inst.name, inst.input), *events]
        result = inst.engine.episode(self.now, events)
        inst.custom_status = result.custom_status
        inst.actions.extend(result.actions)
        outcome = result.outcome
        if outcome is not None and outcome.status == "CONTINUED_AS_NEW":
            self._continue_as_new(inst, outcome)
            return
        for action in result.actions:
            self._dispatch(inst, action)
        if outcome is not None:
            self._finish(inst, outcome)
        else:
            inst.status = "SUSPENDED" if result.suspended else "RUNNING"

    def _dispatch(self, inst: Instance, action: Action) -> None:
        if action.kind == "activity":
            encoded = None if action.input is None else dapr_shared.to_json(action.input)
            self._calls.append(
                _Call(inst.instance_id, inst.generation, action, encoded, str(action.task_id))
            )
        elif action.kind == "timer":
            if action.fire_at != SENTINEL:
                assert action.fire_at is not None
                heapq.heappush(
                    self._timers,
                    (
                        action.fire_at,
                        next(self._order),
                        inst.instance_id,
                        inst.generation,
                        action.task_id,
                    ),
                )
        elif action.kind == "child":
            assert action.instance_id is not None
            inst.children[action.instance_id] = action.task_id
            existing = self.instances.get(action.instance_id)
            if existing is not None and existing.live:
                # e.g. a child left running by a previous generation of the parent
                failure = Failure(
                    "InstanceExistsError",
                    f"a workflow instance with id {action.instance_id!r} is already running",
                )
                self._command(inst.instance_id, ("child_failed", action.task_id, failure))
                return
            encoded = None if action.input is None else dapr_shared.to_json(action.input)
            self._create(
                action.instance_id, action.name, encoded, (inst.instance_id, action.task_id)
            )

    def _continue_as_new(self, inst: Instance, outcome: Outcome) -> None:
        inst.generation += 1
        inst.started = False
        inst.input = outcome.result
        inst.children.clear()
        inst.custom_status = None
        inst.inbox = [("event", name, data) for name, data in outcome.carryover] + inst.inbox
        self._ready[inst.instance_id] = None

    def _finish(self, inst: Instance, outcome: Outcome) -> None:
        inst.status = outcome.status
        inst.result = outcome.result
        inst.failure = outcome.failure
        if outcome.status == "TERMINATED":
            for child_id in inst.children:
                child = self.instances.get(child_id)
                if child is not None and child.live:
                    self._command(child_id, ("terminate", outcome.result))
        if inst.parent is None:
            return
        parent_id, task_id = inst.parent
        parent = self.instances.get(parent_id)
        if parent is None or not parent.live or parent.children.get(inst.instance_id) != task_id:
            return
        if outcome.status == "COMPLETED":
            self._command(parent_id, ("child_completed", task_id, outcome.result))
        else:
            failure = outcome.failure or Failure(
                "WorkflowTerminatedError", f"child workflow {inst.instance_id!r} was terminated"
            )
            self._command(parent_id, ("child_failed", task_id, failure))

    def run_activity(self, index: int = 0) -> None:
        call = self._calls.pop(index)
        result, failure = self.engine.run_activity(
            call.instance_id, call.action, call.encoded_input, call.execution_id
        )
        inst = self.instances[call.instance_id]
        if not inst.live or inst.generation != call.generation:
            return
        if failure is None:
            self._command(call.instance_id, ("task_completed", call.action.task_id, result))
        else:
            self._command(call.instance_id, ("task_failed", call.action.task_id, failure))

    def _live_timer(self, entry: tuple[datetime, int, str, int, int]) -> bool:
        inst = self.instances[entry[2]]
        return inst.live and inst.generation == entry[3]

    def next_timer(self) -> datetime | None:
        while self._timers and not self._live_timer(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def fire_next_timer(self) -> bool:
        """Move the clock to the next timer (if it is later) and fire that one timer."""
        if self.next_timer() is None:
            return False
        fire_at, _, instance_id, _, timer_id = heapq.heappop(self._timers)
        self.now = max(self.now, fire_at)
        self._command(instance_id, ("timer_fired", timer_id, fire_at))
        return True

    def _fire_due(self) -> bool:
        fired = False
        while (when := self.next_timer()) is not None and when <= self.now:
            fired = self.fire_next_timer() or fired
        return fired

    def settle(self) -> None:
        """Run everything that can run without time moving, as wfkit's engine does:
        ready episodes first, then the oldest pending activity, then due timers."""
        while True:
            if self._ready:
                for instance_id in list(self._ready):
                    self.run_episode(instance_id)
                continue
            if self._calls:
                self.run_activity(0)
                continue
            if self._fire_due():
                continue
            return

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self.now + delta)

    def advance_to(self, when: datetime) -> None:
        self.settle()
        while (step := self.next_timer()) is not None and step <= when:
            self.now = max(self.now, step)
            self._fire_due()
            self.settle()
        self.now = max(self.now, when)
        self.settle()

    def run_to_end(self, instance_id: str, *, max_timers: int = 1_000) -> None:
        """Settle, then fire timers one instant at a time until the instance ends (auto-skip)."""
        for _ in range(max_timers):
            self.settle()
            if not self.instances[instance_id].live:
                return
            step = self.next_timer()
            if step is None:
                return
            self.advance_to(step)
        raise AssertionError(f"{instance_id!r} did not end after {max_timers} timers")

    # ------------------------------------------------------------------ random exploration
    def options(self, deliveries: bool) -> list[tuple[str, Any]]:
        """Everything that could happen next, for schedules chosen at random."""
        out: list[tuple[str, Any]] = [("episode", i) for i in self._ready]
        out.extend(("activity", i) for i in range(len(self._calls)))
        if deliveries:
            out.append(("deliver", None))
        if self.next_timer() is not None:
            out.append(("timer", None))
        return out

    def explore(
        self,
        pick: Callable[[int], int],
        deliveries: Sequence[tuple[Any, ...]],
        *,
        max_steps: int = 2_000,
    ) -> None:
        """Run to a standstill, choosing each step with ``pick(number of options)``:
        which ready instance runs, which pending activity completes, when the next
        scripted delivery happens, when the next timer fires. Deliveries happen in order:
        ``("event", instance id, name, data)``, ``("suspend", instance id)``,
        ``("resume", instance id)``, ``("terminate", instance id, output)``."""
        pending = list(deliveries)
        for _ in range(max_steps):
            options = self.options(bool(pending))
            if not options:
                return
            kind, arg = options[pick(len(options))]
            if kind == "episode":
                self.run_episode(arg)
            elif kind == "activity":
                self.run_activity(arg)
            elif kind == "deliver":
                self.deliver(pending.pop(0))
            else:
                self.fire_next_timer()
        raise AssertionError(f"no standstill after {max_steps} steps")

    def _flush(self, instance_id: str) -> None:
        """Run the instance until it has started and its inbox is empty (a continue-as-new
        starts a new generation that has yet to run)."""
        inst = self.instances[instance_id]
        for _ in range(100):
            if not inst.live or (inst.started and not inst.inbox):
                return
            self.run_episode(instance_id)
        raise AssertionError(f"{instance_id!r} keeps continuing as new")

    def deliver(self, delivery: tuple[Any, ...]) -> bool:
        kind, instance_id, *args = delivery
        if kind == "event":
            return self.raise_event(instance_id, *args)
        if kind == "suspend":
            # in an episode of its own: Dapr's engine mishandles decisions recorded after
            # a suspend event of the same episode (see test_conformance)
            self._flush(instance_id)
            if not self.suspend(instance_id):
                return False
            self.run_episode(instance_id)
            return True
        if kind == "resume":
            # only a suspended instance (or one with a suspension on its way) is resumed:
            # a suspension does not outlive continue-as-new
            inst = self.instances[instance_id]
            if inst.status != "SUSPENDED" and ("suspend",) not in inst.inbox:
                return False
            return self.resume(instance_id)
        if kind == "terminate":
            # in an episode of its own: Dapr's engine runs the code on for events that follow
            # a termination in the same episode (see test_conformance)
            self._flush(instance_id)
            if not self.terminate(instance_id, *args):
                return False
            self.run_episode(instance_id)
            return True
        raise ValueError(f"unknown delivery {delivery!r}")

    # ------------------------------------------------------------------ reading
    def reports(self) -> dict[str, Report]:
        return {iid: inst.report() for iid, inst in self.instances.items()}
