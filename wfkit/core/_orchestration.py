"""The orchestration executor: history events in, decisions and an outcome out.

Pure: no I/O, no threads, no clock reads. The same code serves the warm path (a live
generator fed only new events) and the cold path (a history replayed from the start
with ``is_replaying=True``, each recorded decision checked against the code's).
Semantics follow Dapr's vendored durabletask engine (``_durabletask/worker.py``).
The context the code calls and the state it records are in :mod:`wfkit.core._context`.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Generator, Mapping
from types import FrameType
from typing import Any, Protocol

from wfkit.core import _serde
from wfkit.core._context import DaprWorkflowContext, registered_name
from wfkit.core._errors import REPLAY_ERRORS, NonDeterminismError
from wfkit.core._history import (
    NOT_SUSPENDABLE,
    ChildWorkflowInstanceCompleted,
    ChildWorkflowInstanceCreated,
    ChildWorkflowInstanceFailed,
    EventRaised,
    ExecutionCompleted,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    FailureDetails,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
    TaskScheduled,
    TimerCreated,
    TimerFired,
    WorkflowStarted,
)
from wfkit.core._propagation import PropagatedHistory
from wfkit.core._run_state import Outcome, OutcomeStatus, RunState
from wfkit.core._task import CompletableTask, CompositeTask, RetryableTask, Task

__all__ = [
    "DaprWorkflowContext",
    "Orchestration",
    "Outcome",
    "OutcomeStatus",
    "WorkflowInvoker",
    "describe_decision",
    "registered_name",
]


class WorkflowInvoker(Protocol):
    """What the executor needs of a registered workflow."""

    @property
    def name(self) -> str: ...

    def invoke(self, ctx: DaprWorkflowContext, encoded_input: str | None) -> Any: ...


def _failure_message(instance_id: str, kind: str, task_id: int, msg: str) -> str:
    if kind == "child":
        return f"Sub-orchestration task #{task_id} failed: {msg}"
    return f"{instance_id}: Activity task #{task_id} failed: {msg}"


_CHANGED = (
    ". The workflow code changed or is not deterministic since this instance started; "
    "run new code under a new workflow name or a fresh instance."
)

_CALLS = {
    TaskScheduled: "call_activity",
    TimerCreated: "create_timer",
    ChildWorkflowInstanceCreated: "call_child_workflow",
}


def describe_decision(event: HistoryEvent) -> str:
    call = _CALLS.get(type(event), event.kind)
    if isinstance(event, TimerCreated):
        what = "wait_for_external_event" if event.origin == "external_event" else call
        arg = repr(event.origin_name) if event.origin_name else event.fire_at.isoformat()
        return f"{what}({arg}) with task id {event.task_id}"
    return f"{call}({event.name!r}) with task id {event.event_id}"


class Orchestration:
    """One instance's executor: apply history events, collect decisions and the outcome."""

    def __init__(
        self,
        instance_id: str,
        resolve: Callable[[str], WorkflowInvoker],
        *,
        max_payload_bytes: int | None = None,
    ):
        #: What the code has decided and waits for (shared with its context).
        self.state = RunState(instance_id, max_payload_bytes)
        self.ctx = DaprWorkflowContext(instance_id, state=self.state)
        self._resolve = resolve
        self._previous: Task | None = None
        #: The orchestrator's generator, once started (None for a plain function)
        self.generator: Generator[Any, Any, Any] | None = None
        #: The frame of the orchestrator's generator, kept once it has started: it
        #: outlives the generator, so locals and line stay readable after it has ended.
        self.start_frame: FrameType | None = None
        self.is_suspended = False
        #: Events held while suspended (a list only once there is one)
        self._suspended_events: list[HistoryEvent] | tuple[()] = ()
        self._diverged = False
        self.workflow_name: str | None = None
        #: Every task the code yielded, in order (a when_all/when_any is one entry).
        self.yielded: list[Task] = []

    @property
    def outcome(self) -> Outcome | None:
        state = self.state
        outcome = state.outcome
        if (
            outcome is not None
            and outcome.status == OutcomeStatus.CONTINUED_AS_NEW
            and state.save_events
        ):
            events = state.received_events
            outcome.carryover = [value for values in events.values() for value in values]
        return outcome

    @property
    def replay_failure(self) -> FailureDetails | None:
        """Why a replay could not follow its history (the code no longer makes the
        decisions it records, or its workflow is not registered), if it could not."""
        outcome = self.state.outcome
        failure = outcome.failure if outcome is not None else None
        return failure if failure is not None and failure.error_type in REPLAY_ERRORS else None

    @property
    def custom_status(self) -> str | None:
        return self.state.custom_status

    @property
    def waiting_for_events(self) -> list[str]:
        """Names (as the code spelled them) of the external events the code waits for now."""
        return [t.name or k for k, ts in self.state.pending_events.items() for t in ts]

    @property
    def pending_tasks(self) -> dict[int, CompletableTask]:
        return self.state.pending_tasks

    @property
    def event_waits(self) -> list[CompletableTask]:
        """The external event waits not satisfied yet, by name, oldest first."""
        return [wait for waits in self.state.pending_events.values() for wait in waits]

    @property
    def pending_decisions(self) -> Mapping[int, HistoryEvent]:
        """The decisions made and not yet confirmed by history (or taken), by task id."""
        return self.state.pending_actions

    def release(self) -> None:
        """Unlink the tasks from their groups: the engine drops this executor (evicted,
        ended, started over), and a pending group and its children, or an event wait's
        timeout and the run state it updates, would otherwise keep it all (results too)
        until a pass of the cyclic collector; a bulk run drops them by the hundred thousand."""
        groups = [t for t in self.yielded if isinstance(t, CompositeTask)]
        for created in self.state.tasks:
            created.group = None
        while groups:
            for member in groups.pop().get_tasks():
                member.group = None
                if isinstance(member, CompositeTask):
                    groups.append(member)

    @property
    def has_ended(self) -> bool:
        """Whether the code has reached an outcome (returned, raised, stopped)."""
        return self.state.outcome is not None

    def version_stamp(self) -> tuple[str | None, tuple[str, ...]]:
        """(the workflow version the code runs, the patches it found applied so far): what
        an episode's ``WorkflowStarted`` records (``(None, ())`` for most workflows)."""
        state = self.state
        return state.version_name, state.encountered_patches

    def take_decisions(self) -> list[HistoryEvent]:
        """The decisions made since the last call, in task-id order; they become history."""
        pending = self.state.pending_actions
        decisions = list(pending.values())
        pending.clear()
        return decisions

    def fail(self, error: BaseException) -> None:
        """End the instance as FAILED with ``error`` (raised by its code where ``apply``
        does not catch it: a BaseException such as SystemExit)."""
        self.state.set_outcome(Outcome(OutcomeStatus.FAILED, failure=FailureDetails.of(error)))

    # --- applying events ---------------------------------------------------------------
    def apply(self, event: HistoryEvent, *, replaying: bool, position: int | None = None) -> None:
        state = self.state
        if self._diverged:
            return
        # A decision recorded after a suspension (both in one episode) is confirmed at
        # once: buffered, the code's decision would look new on a cold replay and be
        # issued again (Dapr's engine does that), then clash with the record on resume.
        if self.is_suspended and not event.is_scheduling and not isinstance(event, NOT_SUSPENDABLE):
            if isinstance(self._suspended_events, list):
                self._suspended_events.append(event)
            else:
                self._suspended_events = [event]
            return
        state.is_replaying = replaying
        try:
            self._dispatch(event, position)
        except NonDeterminismError as exc:
            # history and code disagree: that outranks any outcome the code reached
            self._diverged = True
            state.outcome = None
            state.set_outcome(Outcome(OutcomeStatus.FAILED, failure=FailureDetails.of(exc)))
        except StopIteration as stop:
            try:
                self._complete(stop.value)
            except Exception as exc:
                state.set_outcome(Outcome(OutcomeStatus.FAILED, failure=FailureDetails.of(exc)))
        except Exception as exc:
            state.set_outcome(Outcome(OutcomeStatus.FAILED, failure=FailureDetails.of(exc)))

    def _dispatch(self, event: HistoryEvent, position: int | None) -> None:
        state = self.state
        match event:
            case TaskCompleted() | ChildWorkflowInstanceCompleted():
                task = state.pending_tasks.pop(event.task_scheduled_id, None)
                if task is not None:
                    task.complete(_serde.decode(event.result))
                    self._resume()
            case WorkflowStarted():
                if state.now != event.timestamp:
                    state.now = event.timestamp
                    state.now_iso = ""
                if event.patches:
                    state.history_patches = {*state.history_patches, *event.patches}
                if event.version_name:
                    state.recorded_version = event.version_name
            case ExecutionStarted():
                self._start(event)
            case TaskScheduled() | TimerCreated() | ChildWorkflowInstanceCreated():
                self._confirm(event, position)
            case TimerFired():
                timer = state.pending_tasks.pop(event.timer_id, None)
                if timer is None:
                    return
                timer.complete(None)
                if timer.retry_of is not None:
                    state.retry(timer.retry_of)
                else:
                    self._resume()
            case TaskFailed() | ChildWorkflowInstanceFailed():
                self._on_failed(event.task_scheduled_id, event.failure)
            case EventRaised():
                self._on_event_raised(event)
            case ExecutionSuspended():
                self.is_suspended = True
            case ExecutionResumed():
                if self.is_suspended:
                    self.is_suspended = False
                    buffered, self._suspended_events = self._suspended_events, ()
                    for e in buffered:
                        self.apply(e, replaying=state.is_replaying)
            case ExecutionTerminated():
                state.set_outcome(Outcome(OutcomeStatus.TERMINATED, event.output))
            case ExecutionCompleted():
                self._check_ended(event, position)

    def _start(self, event: ExecutionStarted) -> None:
        state = self.state
        self.workflow_name = event.workflow_name
        if event.propagated is not None:
            state.propagated = PropagatedHistory.from_json(event.propagated)
        workflow: Any = self._resolve(event.workflow_name)
        code_for_version = getattr(workflow, "code_for_version", None)
        if code_for_version is not None:  # versions: the one the history records, or latest
            state.version_name, workflow = code_for_version(state.recorded_version)
        result = workflow.invoke(self.ctx, event.input)
        if inspect.isgenerator(result):
            self.generator = result
            state.generator = weakref.ref(result)
            self.start_frame = result.gi_frame
            self._previous = self._check_yield(next(result))
            self._resume()
        else:
            self._complete(result)

    def _on_event_raised(self, event: EventRaised) -> None:
        state = self.state
        key = event.event_name.casefold()
        waiting = state.pending_events.get(key)
        if waiting:
            task = waiting.pop(0)
            if not waiting:
                del state.pending_events[key]
            task.complete(_serde.decode(event.input))
            self._resume()
        else:
            value = _serde.decode(event.input)
            state.received_events.setdefault(key, []).append((event.event_name, value))

    def _check_ended(self, event: ExecutionCompleted, position: int | None) -> None:
        """The code's own outcome is what counts on replay, but it must have ended."""
        state = self.state
        if state.is_replaying and state.outcome is None:
            pending = ", ".join(describe_decision(d) for d in state.pending_actions.values())
            where = f"history event {position}" if position is not None else "a history event"
            raise NonDeterminismError(
                f"{where} (ExecutionCompleted) records that the workflow ended "
                f"({event.status}), but the code has not returned"
                + (f": it calls {pending}" if pending else "")
                + _CHANGED
            )

    def _on_failed(self, task_id: int, failure: FailureDetails) -> None:
        state = self.state
        task = state.pending_tasks.pop(task_id, None)
        if task is None:
            return
        if isinstance(task, RetryableTask) and task.policy.is_retryable(failure.error_type):
            delay = task.compute_next_delay()
            if delay is not None:
                task.attempt_count += 1
                origin = "activity_retry" if task.kind == "activity" else "child_workflow_retry"
                state.create_timer(delay, origin, task.name, task)
                return
        task.fail(_failure_message(state.instance_id, task.kind, task_id, failure.message), failure)
        self._resume()

    def _confirm(self, event: HistoryEvent, position: int | None) -> None:
        """Replay: the code must make the decision the history recorded, with the same id."""
        state = self.state
        task_id = event.event_id
        if (
            isinstance(event, TimerCreated)
            and event.is_optional
            and not getattr(state.pending_actions.get(task_id), "is_optional", False)
        ):
            # the event wait of older code, where the code now does something else (a
            # patch added a step before it): Dapr's executor drops the stale optional timer
            return
        decision = state.pending_actions.pop(task_id, None)
        if (
            decision is not None
            and type(decision) is type(event)
            and decision.name == event.name
            and (not isinstance(event, TimerCreated) or decision.origin == event.origin)  # type: ignore[attr-defined]
        ):
            return
        where = f"history event {position}" if position is not None else "a history event"
        recorded = describe_decision(event)
        if decision is None:
            pending = ", ".join(describe_decision(d) for d in state.pending_actions.values())
            if pending:
                pending = f" (it calls {pending})"
            elif state.outcome is not None:
                pending = " (it has already returned)"
            raise NonDeterminismError(
                f"{where} ({event.kind}) records {recorded}, but the code makes no call with "
                f"task id {task_id} at that point{pending}" + _CHANGED
            )
        same = type(decision) is type(event) and decision.name == event.name
        if same and isinstance(event, TimerCreated) and isinstance(decision, TimerCreated):
            same = decision.origin == event.origin
        if not same:
            raise NonDeterminismError(
                f"{where} ({event.kind}) records {recorded}, but the code now calls "
                f"{describe_decision(decision)}" + _CHANGED
            )

    # --- driving the generator -----------------------------------------------------------
    def _check_yield(self, value: Any) -> Task:
        if not isinstance(value, Task):
            raise TypeError(
                f"workflow {self.workflow_name!r} yielded {value!r}, which is not a task: yield "
                "what ctx.call_activity, ctx.call_child_workflow, ctx.create_timer, "
                "ctx.wait_for_external_event, when_all or when_any return"
            )
        self.yielded.append(value)
        return value

    def _resume(self) -> None:
        generator = self.generator
        if generator is None:
            return
        while self._previous is not None and self._previous.is_complete:
            previous = self._previous
            outcome = self.state.outcome
            if outcome is not None and outcome.status != OutcomeStatus.CONTINUED_AS_NEW:
                return
            if previous.is_failed:
                value = generator.throw(previous.get_exception())
            else:
                value = generator.send(previous.get_result())
            self._previous = self._check_yield(value)

    def _complete(self, result: Any) -> None:
        state = self.state
        if state.outcome is not None:
            return
        encoded = _serde.encode(
            result, what=f"result of workflow {self.workflow_name!r}", limit=state.limit
        )
        state.set_outcome(Outcome(OutcomeStatus.COMPLETED, encoded))
