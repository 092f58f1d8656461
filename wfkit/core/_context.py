"""The context a workflow's code receives.

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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from wfkit.core import _serde
from wfkit.core._errors import InvalidArgumentError
from wfkit.core._propagation import PropagatedHistory, PropagationScope, scope_of
from wfkit.core._run_state import Outcome, OutcomeStatus, RunState
from wfkit.core._task import (
    CompletableTask,
    RetryPolicy,
    Task,
)

#: ``propagation=`` left out (the usual case), without an enum lookup per call.
_NONE = PropagationScope.NONE.value


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
                state.encountered_patches = (*state.encountered_patches, patch_name)
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
            propagation=_NONE if propagation is None else scope_of(propagation).value,
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
            propagation=_NONE if propagation is None else scope_of(propagation).value,
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
