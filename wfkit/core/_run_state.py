"""What one run of a workflow's code has decided and waits for (:class:`RunState`), and
how a run ends (:class:`Outcome`): shared by the context the code calls
(:mod:`wfkit.core._context`) and the executor that feeds it history
(:mod:`wfkit.core._orchestration`)."""

from __future__ import annotations

import hashlib
import uuid
import weakref
from collections.abc import Callable, Generator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from wfkit.core._history import (
    OPTIONAL_TIMER_FIRE_AT,
    ChildWorkflowInstanceCreated,
    FailureDetails,
    HistoryEvent,
    TaskScheduled,
    TimerCreated,
)
from wfkit.core._propagation import PropagatedHistory
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


_NO_PATCHES: frozenset[str] = frozenset()


class RunState:
    """What one run of a workflow's code has decided and waits for."""

    def __init__(self, instance_id: str, max_payload_bytes: int | None = None):
        self.instance_id = instance_id
        self.limit = max_payload_bytes
        #: Virtual time of the current episode (naive UTC), and its ISO text ("" until a
        #: GUID needs it: most episodes never make one).
        self.now = _BEFORE_START
        self.now_iso = ""
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
        #: The orchestrator's generator, once started (decisions record its current line),
        #: by a weak reference: the generator's locals hold the context, which holds this
        #: state, and a strong one would make every executor a cycle that only the cyclic
        #: collector frees (a million idle instances' worth once they are evicted).
        self.generator: weakref.ref[Generator[Any, Any, Any]] | None = None
        #: Every task the code created, in order (for graphs and time travel).
        self.tasks: list[CompletableTask] = []
        # versioning, as Dapr: patches and version the history records, patches the code
        # found applied (in order), the answer each patch got, the version the code runs
        # (an empty set takes 216 bytes: a set is made only when a history has patches;
        # a hundred thousand executors stay in memory)
        self.history_patches: AbstractSet[str] = _NO_PATCHES
        self.encountered_patches: tuple[str, ...] = ()
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
        if not self.now_iso:
            self.now_iso = self.now.isoformat()
        return _guid_text(f"{self.instance_id}_{self.now_iso}_{counter}")

    def line(self) -> int | None:
        """The line the orchestrator's code is running (where it makes a decision)."""
        generator: Any = self.generator() if self.generator is not None else None
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
