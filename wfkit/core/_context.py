"""The context a workflow's code receives, and the run state behind it.

:class:`DaprWorkflowContext` is Dapr's API (``call_activity``, ``create_timer``, ...).
What it records (decisions pending confirmation, tasks waiting for results, external
events buffered, the outcome) lives in a :class:`RunState` it shares with the executor
(:class:`wfkit.core._orchestration.Orchestration`), which feeds it history events: the
user's context shows only Dapr's names, the executor reads and writes the state openly.
"""

from __future__ import annotations

import calendar
import hashlib
import random as _random
import string
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from wfkit.core import _serde
from wfkit.core._errors import InvalidArgumentError
from wfkit.core._history import (
    OPTIONAL_TIMER_FIRE_AT,
    ChildWorkflowInstanceCreated,
    FailureDetails,
    HistoryEvent,
    TaskScheduled,
    TimerCreated,
)
from wfkit.core._propagation import PropagatedHistory, PropagationScope, scope_of
from wfkit.core._state import WorkflowStatus
from wfkit.core._task import (
    CompletableTask,
    ExternalEventTask,
    RetryableTask,
    RetryPolicy,
    Task,
    TimerTask,
)
from wfkit.core._time import to_naive_utc

_GUID_NAMESPACE = uuid.UUID("9e952958-5e33-4daf-827f-2fa12937b875").bytes
#: The variant bits of a v5 UUID: the high digit of byte 8 becomes 10xx in binary.
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
#: Virtual time before the first ``WorkflowStarted`` sets it.
_BEFORE_START = datetime(1000, 1, 1)


def _guid_text(name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` without building UUID objects (hot path):
    the SHA-1 digest in hex with the version (5) and variant digits set."""
    h = hashlib.sha1(_GUID_NAMESPACE + name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


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


class OutcomeStatus(StrEnum):
    """How a run of the code ended: the ``WorkflowStatus`` names of a finished instance,
    and CONTINUED_AS_NEW (a generation that hands over to the next one)."""

    COMPLETED = WorkflowStatus.COMPLETED.name
    FAILED = WorkflowStatus.FAILED.name
    TERMINATED = WorkflowStatus.TERMINATED.name
    CONTINUED_AS_NEW = "CONTINUED_AS_NEW"


@dataclass(slots=True)
class Outcome:
    """How an instance (or one generation of it) ended."""

    status: str  # an OutcomeStatus
    result: str | None = None
    failure: FailureDetails | None = None
    carryover: list[tuple[str, str | None]] = field(default_factory=list)


def _dapr_retry_policy(retry_policy: Any) -> RetryPolicy:
    """A wfkit RetryPolicy for a ``dapr.ext.workflow`` one (its ``obj`` is durabletask's)."""
    if getattr(retry_policy, "obj", None) is None:
        raise TypeError("retry_policy must be a wfkit.RetryPolicy")
    return RetryPolicy(
        first_retry_interval=retry_policy.first_retry_interval,
        max_number_of_attempts=retry_policy.max_number_of_attempts,
        backoff_coefficient=retry_policy.backoff_coefficient,
        max_retry_interval=retry_policy.max_retry_interval,
        retry_timeout=retry_policy.retry_timeout,
    )


class RunState:
    """What one run of a workflow's code has decided and waits for."""

    def __init__(self, instance_id: str, max_payload_bytes: int | None = None):
        self.instance_id = instance_id
        self.limit = max_payload_bytes
        #: Virtual time of the current episode (naive UTC), and its ISO text.
        self.now = _BEFORE_START
        self.now_iso = _BEFORE_START.isoformat()
        self.is_replaying = True
        self.sequence = 0
        self.uuid_counter = 0
        #: Decisions made and not yet taken (live) or confirmed by history (replay).
        self.pending_actions: dict[int, HistoryEvent] = {}
        #: Tasks waiting for their result, by task id.
        self.pending_tasks: dict[int, CompletableTask] = {}
        #: External events that came before anyone waited for them (casefolded name).
        self.received_events: dict[str, list[tuple[str, Any]]] = {}
        #: Event waits not yet satisfied (casefolded name), oldest first.
        self.pending_events: dict[str, list[CompletableTask]] = {}
        self.custom_status: str | None = None
        self.save_events = False
        self.outcome: Outcome | None = None
        #: The orchestrator's generator, once started (decisions record its current line).
        self.generator: Generator[Any, Any, Any] | None = None
        #: Every task the code created, in order (for graphs and time travel).
        self.tasks: list[CompletableTask] = []
        # versioning, as Dapr: patches and version the history records, patches the code
        # found applied (in order), the answer each patch got, the version the code runs
        self.history_patches: set[str] = set()
        self.encountered_patches: list[str] = []
        self.applied_patches: dict[str, bool] = {}
        self.recorded_version: str | None = None
        self.version_name: str | None = None
        #: History handed down by the caller (``propagation=`` on its call), if any.
        self.propagated: PropagatedHistory | None = None

    # --- helpers ------------------------------------------------------------------------
    def next_id(self) -> int:
        self.sequence += 1
        return self.sequence

    def next_guid_text(self) -> str:
        counter = self.uuid_counter
        self.uuid_counter = counter + 1
        return _guid_text(f"{self.instance_id}_{self.now_iso}_{counter}")

    def line(self) -> int | None:
        """The line the orchestrator's code is running (where it makes a decision)."""
        generator: Any = self.generator
        frame = generator.gi_frame if generator is not None else None
        return frame.f_lineno if frame is not None else None

    def decide(self, decision: HistoryEvent, task: CompletableTask) -> None:
        task_id = decision.event_id
        self.pending_actions[task_id] = decision
        self.pending_tasks[task_id] = task

    def set_outcome(self, outcome: Outcome) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.pending_actions.clear()

    # --- scheduling -----------------------------------------------------------------------
    def create_timer(
        self,
        fire_at: datetime | timedelta,
        origin: str,
        origin_name: str | None,
        retry_of: RetryableTask | None,
    ) -> TimerTask:
        if isinstance(fire_at, timedelta):
            fire_at = self.now + fire_at
        elif isinstance(fire_at, datetime):
            fire_at = to_naive_utc(fire_at)
        else:
            raise TypeError(
                f"create_timer takes a datetime or a timedelta, not {type(fire_at).__name__}"
            )
        task_id = self.next_id()
        task = TimerTask(task_id, fire_at, retry_of)
        decision = TimerCreated(
            timestamp=self.now,
            task_id=task_id,
            fire_at=fire_at,
            origin=origin,
            origin_name=origin_name,
            line=self.line(),
        )
        self.decide(decision, task)
        self.tasks.append(task)
        return task

    def call(
        self,
        kind: str,
        task_id: int,
        name: str,
        encoded_input: str | None,
        retry_policy: RetryPolicy | None,
        app_id: str | None,
        execution_id: str = "",
        child_id: str | None = None,
        propagation: int = 0,
    ) -> CompletableTask:
        """Schedule the first attempt of an activity (``kind`` activity) or child workflow
        (``child``) call as task ``task_id``."""
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            retry_policy = _dapr_retry_policy(retry_policy)
        if kind == "child":
            child_id = child_id or f"{self.instance_id}:{task_id:04x}"
        decision = self._call_decision(
            kind, task_id, name, encoded_input, app_id, execution_id, child_id, propagation
        )
        task: CompletableTask
        if retry_policy is None:
            task = CompletableTask(kind, name, task_id)
        else:
            task = RetryableTask(
                kind,
                name,
                task_id,
                retry_policy,
                self.now,
                encoded_input,
                execution_id,
                child_id,
                app_id,
            )
            task.propagation = propagation
        self.tasks.append(task)
        self.decide(decision, task)
        return task

    def retry(self, task: RetryableTask) -> None:
        """Schedule the next attempt of a retried call (its retry timer has fired)."""
        task_id = self.next_id()
        task.task_id = task_id
        decision = self._call_decision(
            task.kind,
            task_id,
            task.name or "",
            task.encoded_input,
            task.app_id,
            task.task_execution_id,
            task.instance_id or f"{self.instance_id}:{task_id:04x}",
            task.propagation,
        )
        self.decide(decision, task)

    def _call_decision(
        self,
        kind: str,
        task_id: int,
        name: str,
        encoded_input: str | None,
        app_id: str | None,
        execution_id: str,
        child_id: str | None,
        propagation: int,
    ) -> HistoryEvent:
        if kind == "activity":
            return TaskScheduled(
                timestamp=self.now,
                task_id=task_id,
                activity_name=name,
                input=encoded_input,
                task_execution_id=execution_id,
                app_id=app_id,
                propagation=propagation,
                line=self.line(),
            )
        return ChildWorkflowInstanceCreated(
            timestamp=self.now,
            task_id=task_id,
            workflow_name=name,
            instance_id=child_id or "",
            input=encoded_input,
            app_id=app_id,
            propagation=propagation,
            line=self.line(),
        )

    def wait_for_event(self, name: str, timeout: datetime | timedelta | None) -> Task:
        key = name.casefold()
        event_task: CompletableTask[Any] = CompletableTask("event", name, None)
        self.tasks.append(event_task)
        buffered = self.received_events.get(key)
        if buffered:
            _, value = buffered.pop(0)
            if not buffered:
                del self.received_events[key]
            event_task.complete(value)
            return event_task
        self.pending_events.setdefault(key, []).append(event_task)
        unregister = self._unregister(key, event_task)
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
        timer = self.create_timer(fire_at, "external_event", name, None)
        return ExternalEventTask(
            event_task, timer, name, None if indefinite else timeout, unregister
        )

    def _unregister(self, key: str, event_task: CompletableTask) -> Callable[[], None]:
        def unregister() -> None:
            waiting = self.pending_events.get(key)
            if waiting and event_task in waiting:
                waiting.remove(event_task)
                if not waiting:
                    del self.pending_events[key]

        return unregister


class DaprWorkflowContext:
    """The context an orchestrator function receives as its first argument."""

    def __init__(
        self,
        instance_id: str,
        max_payload_bytes: int | None = None,
        *,
        state: RunState | None = None,
    ):
        self._state = state if state is not None else RunState(instance_id, max_payload_bytes)

    # --- properties --------------------------------------------------------------------
    @property
    def instance_id(self) -> str:
        return self._state.instance_id

    @property
    def current_utc_datetime(self) -> datetime:
        """Virtual time at the start of the current episode (naive UTC), stable on replay."""
        return self._state.now

    @property
    def is_replaying(self) -> bool:
        return self._state.is_replaying

    @property
    def tasks(self) -> list[CompletableTask]:
        """Every task the code created, in order (for graphs and time travel)."""
        return self._state.tasks

    # --- status and deterministic helpers ----------------------------------------------
    def set_custom_status(self, custom_status: Any) -> None:
        if custom_status is not None and not isinstance(custom_status, str):
            custom_status = _serde.encode(
                custom_status, what="custom status", limit=self._state.limit
            )
        elif custom_status is not None:
            _serde.check_text(custom_status, what="custom status")
        self._state.custom_status = custom_status

    def new_guid(self) -> uuid.UUID:
        """A deterministic UUID (v5 of instance id, episode time and a call counter, as Dapr)."""
        return uuid.UUID(self._state.next_guid_text())

    uuid4 = new_guid

    def is_patched(self, patch_name: str) -> bool:
        """Whether this instance runs the code behind patch ``patch_name`` (Dapr's patching).

        An instance that recorded the patch, or code running past its history, gets True
        (the patch is recorded with the episode); a replay of a history made before the
        patch existed gets False, so it keeps to the old path. The answer is the same for
        the whole run."""
        if not isinstance(patch_name, str) or not patch_name.strip():
            raise ValueError(f"a patch name is a non-empty string, not {patch_name!r}")
        state = self._state
        applied = state.applied_patches.get(patch_name)
        if applied is None:
            applied = patch_name in state.history_patches or not state.is_replaying
            state.applied_patches[patch_name] = applied
            if applied:
                state.encountered_patches.append(patch_name)
        return applied

    def now(self) -> datetime:
        return self._state.now

    def random(self) -> _random.Random:
        """A PRNG seeded from the instance id and episode time, read as UTC on every machine."""
        ts = calendar.timegm(self._state.now.timetuple())
        digest = hashlib.sha256(f"{self._state.instance_id}:{ts}".encode()).digest()
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
    def create_timer(self, fire_at: datetime | timedelta) -> Task:
        """A durable timer that fires at ``fire_at`` (a datetime, or a timedelta from now)."""
        return self._state.create_timer(fire_at, "create_timer", None, None)

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
        state = self._state
        # the task id and execution id are drawn first (a call that fails its checks
        # still uses them up, as Dapr's context does)
        task_id = state.next_id()
        execution_id = state.next_guid_text()
        name = registered_name(activity)
        encoded = _serde.encode(input, what=f"input of activity {name!r}", limit=state.limit)
        return state.call(
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
        state = self._state
        task_id = state.next_id()
        name = registered_name(workflow)
        encoded = _serde.encode(input, what=f"input of child workflow {name!r}", limit=state.limit)
        return state.call(
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

    def get_propagated_history(self) -> PropagatedHistory | None:
        """History the caller handed down with ``propagation=``; None if it did not."""
        return self._state.propagated

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
        return self._state.wait_for_event(name, timeout)

    def continue_as_new(self, new_input: Any, *, save_events: bool = False) -> None:
        """Restart the workflow with ``new_input`` once this episode ends (history is reset)."""
        state = self._state
        if state.outcome is not None:
            return
        encoded = _serde.encode(new_input, what="continue_as_new input", limit=state.limit)
        # the events to carry over are those unconsumed when the episode ends (see
        # Orchestration.outcome), as Dapr: later events of the same episode count too
        state.save_events = save_events
        state.set_outcome(Outcome(OutcomeStatus.CONTINUED_AS_NEW, encoded))

    def __repr__(self) -> str:
        return f"<DaprWorkflowContext {self._state.instance_id!r} at {self._state.now.isoformat()}>"
