"""The orchestration executor: history events in, decisions and an outcome out.

Pure: no I/O, no threads, no clock reads. The same code serves the warm path (a live
generator fed only new events) and the cold path (a history replayed from the start
with ``is_replaying=True``, each recorded decision checked against the code's).
Semantics follow Dapr's vendored durabletask engine (``_durabletask/worker.py``).
"""

from __future__ import annotations

import calendar
import hashlib
import inspect
import random as _random
import string
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from wfkit.core import _serde
from wfkit.core._errors import REPLAY_ERRORS, InvalidArgumentError, NonDeterminismError
from wfkit.core._history import (
    NOT_SUSPENDABLE,
    OPTIONAL_TIMER_FIRE_AT,
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
from wfkit.core._propagation import PropagatedHistory, PropagationScope, scope_of
from wfkit.core._task import (
    CompletableTask,
    ExternalEventTask,
    RetryableTask,
    RetryPolicy,
    Task,
    TimerTask,
)

_GUID_NAMESPACE = uuid.UUID("9e952958-5e33-4daf-827f-2fa12937b875").bytes


#: The variant bits of a v5 UUID: the high digit of byte 8 becomes 10xx in binary.
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _guid_text(name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` without building UUID objects (hot path):
    the SHA-1 digest in hex with the version (5) and variant digits set."""
    h = hashlib.sha1(_GUID_NAMESPACE + name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


class WorkflowInvoker(Protocol):
    """What the executor needs of a registered workflow."""

    @property
    def name(self) -> str: ...

    def invoke(self, ctx: DaprWorkflowContext, encoded_input: str | None) -> Any: ...


def registered_name(fn: Any) -> str:
    """The name a function is registered under (``alternate_name`` or its ``__name__``)."""
    if isinstance(fn, str):
        return fn
    name = getattr(fn, "_dapr_alternate_name", None) or getattr(fn, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(
            f"cannot tell the name of {fn!r}: pass a named function or its registered name"
        )
    return name


def to_naive_utc(value: datetime) -> datetime:
    if value.utcoffset() is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


@dataclass(slots=True)
class Outcome:
    """How an instance (or one generation of it) ended."""

    status: str  # COMPLETED | FAILED | TERMINATED | CONTINUED_AS_NEW
    result: str | None = None
    failure: FailureDetails | None = None
    carryover: list[tuple[str, str | None]] = field(default_factory=list)


class DaprWorkflowContext:
    """The context an orchestrator function receives as its first argument."""

    def __init__(self, instance_id: str, max_payload_bytes: int | None = None):
        self._instance_id = instance_id
        self._limit = max_payload_bytes
        self._now = datetime(1000, 1, 1)
        self._now_iso = self._now.isoformat()
        self._is_replaying = True
        self._sequence = 0
        self._uuid_counter = 0
        self._pending_actions: dict[int, HistoryEvent] = {}
        self._pending_tasks: dict[int, CompletableTask] = {}
        self._received_events: dict[str, list[tuple[str, Any]]] = {}
        self._pending_events: dict[str, list[CompletableTask]] = {}
        self._custom_status: str | None = None
        self._save_events = False
        self._outcome: Outcome | None = None
        #: The orchestrator's generator, once started (decisions record its current line).
        self._generator: Generator[Any, Any, Any] | None = None
        #: Every task the code created, in order (for graphs and time travel).
        self.tasks: list[CompletableTask] = []
        # versioning, as Dapr: patches and version the history records, patches the code
        # found applied (in order), the answer each patch got, the version the code runs
        self._history_patches: set[str] = set()
        self._encountered_patches: list[str] = []
        self._applied_patches: dict[str, bool] = {}
        self._recorded_version: str | None = None
        self._version_name: str | None = None
        #: History handed down by the caller (``propagation=`` on its call), if any.
        self._propagated: PropagatedHistory | None = None

    # --- properties --------------------------------------------------------------------
    @property
    def instance_id(self) -> str:
        return self._instance_id

    @property
    def current_utc_datetime(self) -> datetime:
        """Virtual time at the start of the current episode (naive UTC), stable on replay."""
        return self._now

    @property
    def is_replaying(self) -> bool:
        return self._is_replaying

    # --- status and deterministic helpers ----------------------------------------------
    def set_custom_status(self, custom_status: Any) -> None:
        if custom_status is not None and not isinstance(custom_status, str):
            custom_status = _serde.encode(custom_status, what="custom status", limit=self._limit)
        elif custom_status is not None:
            _serde.check_text(custom_status, what="custom status")
        self._custom_status = custom_status

    def new_guid(self) -> uuid.UUID:
        """A deterministic UUID (v5 of instance id, episode time and a call counter, as Dapr)."""
        return uuid.UUID(self._next_guid_text())

    def _next_guid_text(self) -> str:
        counter = self._uuid_counter
        self._uuid_counter = counter + 1
        return _guid_text(f"{self._instance_id}_{self._now_iso}_{counter}")

    uuid4 = new_guid

    def is_patched(self, patch_name: str) -> bool:
        """Whether this instance runs the code behind patch ``patch_name`` (Dapr's patching).

        An instance that recorded the patch, or code running past its history, gets True
        (the patch is recorded with the episode); a replay of a history made before the
        patch existed gets False, so it keeps to the old path. The answer is the same for
        the whole run."""
        if not isinstance(patch_name, str) or not patch_name.strip():
            raise ValueError(f"a patch name is a non-empty string, not {patch_name!r}")
        applied = self._applied_patches.get(patch_name)
        if applied is None:
            applied = patch_name in self._history_patches or not self._is_replaying
            self._applied_patches[patch_name] = applied
            if applied:
                self._encountered_patches.append(patch_name)
        return applied

    def now(self) -> datetime:
        return self._now

    def random(self) -> _random.Random:
        """A PRNG seeded from the instance id and episode time, read as UTC on every machine."""
        ts = calendar.timegm(self._now.timetuple())
        digest = hashlib.sha256(f"{self._instance_id}:{ts}".encode()).digest()
        return _random.Random(int.from_bytes(digest[:8], "big"))

    def random_int(self, min_value: int = 0, max_value: int = 2**31 - 1) -> int:
        if min_value > max_value:
            raise ValueError("min_value must be <= max_value")
        return self.random().randint(min_value, max_value)

    def random_choice(self, sequence: Any) -> Any:
        if not sequence:
            raise IndexError("Cannot choose from empty sequence")
        return self.random().choice(sequence)

    def random_string(self, length: int, *, alphabet: str | None = None) -> str:
        chars = alphabet if alphabet is not None else string.ascii_letters + string.digits
        if length < 0 or not chars:
            raise ValueError("length must be >= 0 and alphabet non-empty")
        rnd = self.random()
        return "".join(chars[rnd.randrange(len(chars))] for _ in range(length))

    # --- scheduling -------------------------------------------------------------------
    def _next_id(self) -> int:
        self._sequence += 1
        return self._sequence

    def _line(self) -> int | None:
        """The line the orchestrator's code is running (where it makes a decision)."""
        generator: Any = self._generator
        frame = generator.gi_frame if generator is not None else None
        return frame.f_lineno if frame is not None else None

    def _decide(self, decision: HistoryEvent, task: CompletableTask) -> None:
        task_id = decision.event_id
        self._pending_actions[task_id] = decision
        self._pending_tasks[task_id] = task

    def create_timer(self, fire_at: datetime | timedelta) -> Task:
        """A durable timer that fires at ``fire_at`` (a datetime, or a timedelta from now)."""
        return self._create_timer(fire_at, "create_timer", None, None)

    def _create_timer(
        self,
        fire_at: datetime | timedelta,
        origin: str,
        origin_name: str | None,
        retry_of: RetryableTask | None,
    ) -> TimerTask:
        if isinstance(fire_at, timedelta):
            fire_at = self._now + fire_at
        elif isinstance(fire_at, datetime):
            fire_at = to_naive_utc(fire_at)
        else:
            raise TypeError(
                f"create_timer takes a datetime or a timedelta, not {type(fire_at).__name__}"
            )
        task_id = self._next_id()
        task = TimerTask(task_id, fire_at, retry_of)
        decision = TimerCreated(
            timestamp=self._now,
            task_id=task_id,
            fire_at=fire_at,
            origin=origin,
            origin_name=origin_name,
            line=self._line(),
        )
        self._decide(decision, task)
        self.tasks.append(task)
        return task

    def call_activity(
        self,
        activity: Callable[..., Any] | str,
        *,
        input: Any = None,
        retry_policy: RetryPolicy | None = None,
        app_id: str | None = None,
        propagation: PropagationScope | None = None,
    ) -> Task:
        """Schedule an activity; yield the returned task to wait for its result."""
        task_id = self._next_id()
        execution_id = self._next_guid_text()
        name = registered_name(activity)
        encoded = _serde.encode(input, what=f"input of activity {name!r}", limit=self._limit)
        return self._schedule(
            "activity",
            task_id,
            name,
            encoded,
            retry_policy,
            app_id,
            execution_id=execution_id,
            propagation=scope_of(propagation).value,
        )

    def call_child_workflow(
        self,
        workflow: Callable[..., Any] | str,
        *,
        input: Any = None,
        instance_id: str | None = None,
        retry_policy: RetryPolicy | None = None,
        app_id: str | None = None,
        propagation: PropagationScope | None = None,
    ) -> Task:
        """Start a child workflow; yield the returned task to wait for its result."""
        if instance_id is not None:
            _serde.check_text(instance_id, what="child workflow instance_id")
        task_id = self._next_id()
        name = registered_name(workflow)
        encoded = _serde.encode(input, what=f"input of child workflow {name!r}", limit=self._limit)
        return self._schedule(
            "child",
            task_id,
            name,
            encoded,
            retry_policy,
            app_id,
            child_id=instance_id,
            propagation=scope_of(propagation).value,
        )

    def call_sub_orchestrator(
        self,
        orchestrator: Callable[..., Any] | str,
        *,
        input: Any = None,
        instance_id: str | None = None,
        retry_policy: RetryPolicy | None = None,
        app_id: str | None = None,
        propagation: PropagationScope | None = None,
    ) -> Task:
        """Durabletask's name for ``call_child_workflow`` (Dapr's context forwards it)."""
        return self.call_child_workflow(
            orchestrator,
            input=input,
            instance_id=instance_id,
            retry_policy=retry_policy,
            app_id=app_id,
            propagation=propagation,
        )

    def _schedule(
        self,
        kind: str,
        task_id: int,
        name: str,
        encoded: str | None,
        retry_policy: RetryPolicy | None,
        app_id: str | None,
        *,
        execution_id: str = "",
        child_id: str | None = None,
        task: RetryableTask | None = None,
        propagation: int = 0,
    ) -> CompletableTask:
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            policy_obj = getattr(retry_policy, "obj", None)  # a dapr.ext.workflow RetryPolicy
            if policy_obj is None:
                raise TypeError("retry_policy must be a wfkit.RetryPolicy")
            retry_policy = RetryPolicy(
                first_retry_interval=retry_policy.first_retry_interval,
                max_number_of_attempts=retry_policy.max_number_of_attempts,
                backoff_coefficient=retry_policy.backoff_coefficient,
                max_retry_interval=retry_policy.max_retry_interval,
                retry_timeout=retry_policy.retry_timeout,
            )
        decision: HistoryEvent
        if kind == "activity":
            decision = TaskScheduled(
                timestamp=self._now,
                task_id=task_id,
                activity_name=name,
                input=encoded,
                task_execution_id=execution_id,
                app_id=app_id,
                propagation=propagation,
                line=self._line(),
            )
        else:
            child_id = child_id or f"{self._instance_id}:{task_id:04x}"
            decision = ChildWorkflowInstanceCreated(
                timestamp=self._now,
                task_id=task_id,
                workflow_name=name,
                instance_id=child_id,
                input=encoded,
                app_id=app_id,
                propagation=propagation,
                line=self._line(),
            )
        if task is None:
            if retry_policy is None:
                task = None
                new_task: CompletableTask = CompletableTask(kind, name, task_id)
            else:
                new_task = RetryableTask(
                    kind,
                    name,
                    task_id,
                    retry_policy,
                    self._now,
                    encoded,
                    execution_id,
                    child_id,
                    app_id,
                )
                new_task.propagation = propagation
            self.tasks.append(new_task)
        else:
            task.task_id = task_id
            new_task = task
        self._decide(decision, new_task)
        return new_task

    def get_propagated_history(self) -> PropagatedHistory | None:
        """History the caller handed down with ``propagation=``; None if it did not."""
        return self._propagated

    def wait_for_external_event(
        self, name: str, *, timeout: datetime | timedelta | None = None
    ) -> Task:
        """Wait for an event raised with ``name`` (case-insensitive, FIFO, buffered if early)."""
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"wait_for_external_event takes the event's name, a non-empty string, not {name!r}"
            )
        _serde.check_text(name, what="event name")
        if timeout is not None and not isinstance(timeout, (datetime, timedelta)):
            raise TypeError(
                f"timeout takes a datetime, a timedelta or None, not {type(timeout).__name__}"
            )
        key = name.casefold()
        event_task: CompletableTask[Any] = CompletableTask("event", name, None)
        self.tasks.append(event_task)
        buffered = self._received_events.get(key)
        if buffered:
            _, value = buffered.pop(0)
            if not buffered:
                del self._received_events[key]
            event_task.complete(value)
            return event_task
        self._pending_events.setdefault(key, []).append(event_task)

        def unregister() -> None:
            waiting = self._pending_events.get(key)
            if waiting and event_task in waiting:
                waiting.remove(event_task)
                if not waiting:
                    del self._pending_events[key]

        if timeout == timedelta(0):
            unregister()
            event_task.cancel(
                TimeoutError(
                    f"Wait for external event {name!r} canceled immediately due to zero timeout"
                )
            )
            return event_task
        indefinite = timeout is None or (isinstance(timeout, timedelta) and timeout < timedelta(0))
        fire_at: datetime | timedelta = OPTIONAL_TIMER_FIRE_AT if indefinite else timeout  # type: ignore[assignment]
        timer = self._create_timer(fire_at, "external_event", name, None)
        return ExternalEventTask(
            event_task, timer, name, None if indefinite else timeout, unregister
        )

    def continue_as_new(self, new_input: Any, *, save_events: bool = False) -> None:
        """Restart the workflow with ``new_input`` once this episode ends (history is reset)."""
        if self._outcome is not None:
            return
        encoded = _serde.encode(new_input, what="continue_as_new input", limit=self._limit)
        # the events to carry over are those unconsumed when the episode ends (see
        # Orchestration.outcome), as Dapr: later events of the same episode count too
        self._save_events = save_events
        self._set_outcome(Outcome("CONTINUED_AS_NEW", encoded))

    def _set_outcome(self, outcome: Outcome) -> None:
        if self._outcome is None:
            self._outcome = outcome
            self._pending_actions.clear()

    def __repr__(self) -> str:
        return f"<DaprWorkflowContext {self._instance_id!r} at {self._now.isoformat()}>"


def _failure_message(ctx: DaprWorkflowContext, kind: str, task_id: int, msg: str) -> str:
    if kind == "child":
        return f"Sub-orchestration task #{task_id} failed: {msg}"
    return f"{ctx.instance_id}: Activity task #{task_id} failed: {msg}"


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
        self.ctx = DaprWorkflowContext(instance_id, max_payload_bytes)
        self._resolve = resolve
        self._generator: Generator[Any, Any, Any] | None = None
        self._previous: Task | None = None
        self._is_suspended = False
        self._suspended_events: list[HistoryEvent] = []
        self._diverged = False
        self.workflow_name: str | None = None
        #: Every task the code yielded, in order (a when_all/when_any is one entry).
        self.yielded: list[Task] = []

    @property
    def outcome(self) -> Outcome | None:
        outcome = self.ctx._outcome
        if outcome is not None and outcome.status == "CONTINUED_AS_NEW" and self.ctx._save_events:
            events = self.ctx._received_events
            outcome.carryover = [value for values in events.values() for value in values]
        return outcome

    @property
    def replay_failure(self) -> FailureDetails | None:
        """Why a replay could not follow its history (the code no longer makes the
        decisions it records, or its workflow is not registered), if it could not."""
        outcome = self.ctx._outcome
        failure = outcome.failure if outcome is not None else None
        return failure if failure is not None and failure.error_type in REPLAY_ERRORS else None

    @property
    def custom_status(self) -> str | None:
        return self.ctx._custom_status

    @property
    def waiting_for_events(self) -> list[str]:
        """Names (as the code spelled them) of the external events the code waits for now."""
        return [t.name or k for k, ts in self.ctx._pending_events.items() for t in ts]

    @property
    def pending_tasks(self) -> dict[int, CompletableTask]:
        return self.ctx._pending_tasks

    def version_stamp(self) -> tuple[str | None, tuple[str, ...]]:
        """(the workflow version the code runs, the patches it found applied so far): what
        an episode's ``WorkflowStarted`` records (``(None, ())`` for most workflows)."""
        ctx = self.ctx
        return ctx._version_name, tuple(ctx._encountered_patches)

    def take_decisions(self) -> list[HistoryEvent]:
        """The decisions made since the last call, in task-id order; they become history."""
        decisions = list(self.ctx._pending_actions.values())
        self.ctx._pending_actions.clear()
        return decisions

    def fail(self, error: BaseException) -> None:
        """End the instance as FAILED with ``error`` (raised by its code where ``apply``
        does not catch it: a BaseException such as SystemExit)."""
        self.ctx._set_outcome(Outcome("FAILED", failure=FailureDetails.of(error)))

    # --- applying events ---------------------------------------------------------------
    def apply(self, event: HistoryEvent, *, replaying: bool, position: int | None = None) -> None:
        ctx = self.ctx
        if self._diverged:
            return
        # A decision recorded after a suspension (both in one episode) is confirmed at
        # once: buffered, the code's decision would look new on a cold replay and be
        # issued again (Dapr's engine does that), then clash with the record on resume.
        if (
            self._is_suspended
            and not event.is_scheduling
            and not isinstance(event, NOT_SUSPENDABLE)
        ):
            self._suspended_events.append(event)
            return
        ctx._is_replaying = replaying
        try:
            self._dispatch(event, position)
        except NonDeterminismError as exc:
            # history and code disagree: that outranks any outcome the code reached
            self._diverged = True
            ctx._outcome = None
            ctx._set_outcome(Outcome("FAILED", failure=FailureDetails.of(exc)))
        except StopIteration as stop:
            try:
                self._complete(stop.value)
            except Exception as exc:
                ctx._set_outcome(Outcome("FAILED", failure=FailureDetails.of(exc)))
        except Exception as exc:
            ctx._set_outcome(Outcome("FAILED", failure=FailureDetails.of(exc)))

    def _dispatch(self, event: HistoryEvent, position: int | None) -> None:
        ctx = self.ctx
        match event:
            case TaskCompleted() | ChildWorkflowInstanceCompleted():
                task = ctx._pending_tasks.pop(event.task_scheduled_id, None)
                if task is not None:
                    task.complete(_serde.decode(event.result))
                    self._resume()
            case WorkflowStarted():
                ctx._now = event.timestamp
                ctx._now_iso = event.timestamp.isoformat()
                if event.patches:
                    ctx._history_patches.update(event.patches)
                if event.version_name:
                    ctx._recorded_version = event.version_name
            case ExecutionStarted():
                self.workflow_name = event.workflow_name
                if event.propagated is not None:
                    ctx._propagated = PropagatedHistory.from_json(event.propagated)
                workflow = self._resolve(event.workflow_name)
                result = workflow.invoke(ctx, event.input)
                if inspect.isgenerator(result):
                    self._generator = ctx._generator = result
                    self._previous = self._check_yield(next(result))
                    self._resume()
                else:
                    self._complete(result)
            case TaskScheduled() | TimerCreated() | ChildWorkflowInstanceCreated():
                self._confirm(event, position)
            case TimerFired():
                timer = ctx._pending_tasks.pop(event.timer_id, None)
                if timer is None:
                    return
                timer.complete(None)
                retry = timer._retryable_parent
                if retry is not None:
                    kind = retry.kind
                    ctx._schedule(
                        kind,
                        ctx._next_id(),
                        retry.name or "",
                        retry.encoded_input,
                        retry.policy,
                        retry.app_id,
                        execution_id=retry.task_execution_id,
                        child_id=retry.instance_id,
                        task=retry,
                        propagation=retry.propagation,
                    )
                else:
                    self._resume()
            case TaskFailed() | ChildWorkflowInstanceFailed():
                self._on_failed(event.task_scheduled_id, event.failure)
            case EventRaised():
                key = event.event_name.casefold()
                waiting = ctx._pending_events.get(key)
                if waiting:
                    task = waiting.pop(0)
                    if not waiting:
                        del ctx._pending_events[key]
                    task.complete(_serde.decode(event.input))
                    self._resume()
                else:
                    value = _serde.decode(event.input)
                    ctx._received_events.setdefault(key, []).append((event.event_name, value))
            case ExecutionSuspended():
                self._is_suspended = True
            case ExecutionResumed():
                if self._is_suspended:
                    self._is_suspended = False
                    buffered, self._suspended_events = self._suspended_events, []
                    for e in buffered:
                        self.apply(e, replaying=ctx._is_replaying)
            case ExecutionTerminated():
                ctx._set_outcome(Outcome("TERMINATED", event.output))
            case ExecutionCompleted():
                # the code's own outcome is what counts on replay, but it must have ended
                if ctx._is_replaying and ctx._outcome is None:
                    pending = ", ".join(describe_decision(d) for d in ctx._pending_actions.values())
                    where = (
                        f"history event {position}" if position is not None else "a history event"
                    )
                    raise NonDeterminismError(
                        f"{where} (ExecutionCompleted) records that the workflow ended "
                        f"({event.status}), but the code has not returned"
                        + (f": it calls {pending}" if pending else "")
                        + _CHANGED
                    )

    def _on_failed(self, task_id: int, failure: FailureDetails) -> None:
        ctx = self.ctx
        task = ctx._pending_tasks.pop(task_id, None)
        if task is None:
            return
        if isinstance(task, RetryableTask) and task.policy.is_retryable(failure.error_type):
            delay = task.compute_next_delay()
            if delay is not None:
                task.attempt_count += 1
                origin = "activity_retry" if task.kind == "activity" else "child_workflow_retry"
                ctx._create_timer(delay, origin, task.name, task)
                return
        task.fail(_failure_message(ctx, task.kind, task_id, failure.message), failure)
        self._resume()

    def _confirm(self, event: HistoryEvent, position: int | None) -> None:
        """Replay: the code must make the decision the history recorded, with the same id."""
        ctx = self.ctx
        task_id = event.event_id
        if (
            isinstance(event, TimerCreated)
            and event.is_optional
            and not getattr(ctx._pending_actions.get(task_id), "is_optional", False)
        ):
            # the event wait of older code, where the code now does something else (a
            # patch added a step before it): Dapr's executor drops the stale optional timer
            return
        decision = ctx._pending_actions.pop(task_id, None)
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
            pending = ", ".join(describe_decision(d) for d in ctx._pending_actions.values())
            if pending:
                pending = f" (it calls {pending})"
            elif ctx._outcome is not None:
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
        generator = self._generator
        if generator is None:
            return
        while self._previous is not None and self._previous.is_complete:
            previous = self._previous
            if self.ctx._outcome is not None and self.ctx._outcome.status != "CONTINUED_AS_NEW":
                return
            if previous.is_failed:
                value = generator.throw(previous.get_exception())
            else:
                value = generator.send(previous.get_result())
            self._previous = self._check_yield(value)

    def _complete(self, result: Any) -> None:
        ctx = self.ctx
        if ctx._outcome is not None:
            return
        encoded = _serde.encode(
            result, what=f"result of workflow {self.workflow_name!r}", limit=ctx._limit
        )
        ctx._set_outcome(Outcome("COMPLETED", encoded))
