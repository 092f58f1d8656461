"""The executor run over a history built for a test: the decisions and the outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from wfkit.core import _serde
from wfkit.core._context import Outcome
from wfkit.core._history import FailureDetails, HistoryEvent
from wfkit.core._orchestration import Orchestration, registered_name
from wfkit.core._registry import Registered
from wfkit.testing.history import INSTANCE_ID


@dataclass(frozen=True)
class ExecutorRun:
    """What the executor made of a history: the new decisions and how the code ended."""

    #: The decisions no recorded event confirms (TaskScheduled, TimerCreated,
    #: ChildWorkflowInstanceCreated), in task-id order: what the runtime would carry out
    #: and record next.
    decisions: list[HistoryEvent]
    #: How the code ended (None while it still waits).
    outcome: Outcome | None
    #: The executor itself, for what else a test checks (``pending_tasks``, ``yielded``).
    orchestration: Orchestration

    @property
    def status(self) -> str | None:
        """COMPLETED, FAILED, TERMINATED or CONTINUED_AS_NEW; None while the code waits."""
        return self.outcome.status if self.outcome is not None else None

    @property
    def output(self) -> Any:
        """The decoded result (or ``continue_as_new``'s new input, or a termination's output)."""
        return _serde.decode(self.outcome.result) if self.outcome is not None else None

    @property
    def failure(self) -> FailureDetails | None:
        """Why the code failed (a ``NonDeterminismError`` when it diverged from history)."""
        return self.outcome.failure if self.outcome is not None else None

    @property
    def custom_status(self) -> Any:
        return _serde.decode(self.orchestration.custom_status)

    @property
    def waiting_for_events(self) -> list[str]:
        """The external events the code waits for now."""
        return self.orchestration.waiting_for_events


def run_executor(
    workflow: Callable[..., Any],
    past: Iterable[HistoryEvent] = (),
    new: Iterable[HistoryEvent] = (),
    *,
    instance_id: str = INSTANCE_ID,
    max_payload_bytes: int | None = None,
) -> ExecutorRun:
    """Run wfkit's executor (pure: no runtime, store, thread or clock) with ``workflow``'s
    code over a history built with :mod:`wfkit.testing.history`.

    ``past`` is the history already recorded, replayed (``ctx.is_replaying`` true) with
    each recorded decision checked against the code's; ``new`` are the events that arrive
    now, as in one turn of the runtime (usually a ``workflow_started`` and a completion).
    The code runs for whatever workflow name the history starts (its ``execution_started``).
    An exception the executor does not catch (a BaseException of the code) propagates."""
    code = Registered.of(workflow, registered_name(workflow))
    orchestration = Orchestration(
        instance_id, lambda name: code, max_payload_bytes=max_payload_bytes
    )
    position = 0
    for replaying, events in ((True, past), (False, new)):
        for event in events:
            orchestration.apply(event, replaying=replaying, position=position)
            position += 1
    return ExecutorRun(orchestration.take_decisions(), orchestration.outcome, orchestration)
