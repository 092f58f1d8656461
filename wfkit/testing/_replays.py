"""Determinism checks for tests: replay recorded histories against workflow code.

Each history is fed to wfkit's executor as on a cold start (``is_replaying`` true
throughout), which checks every recorded decision against the one the code makes now;
a history the code cannot take is reported with the executor's explanation (the event,
what history recorded and what the code does instead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wfkit.core._history import HistoryEvent
from wfkit.core._orchestration import Orchestration, registered_name
from wfkit.core._registry import Registered
from wfkit.runtime._runtime import WorkflowRuntime
from wfkit.store._base import HistoryStore


@dataclass(frozen=True)
class ReplayProblem:
    """A recorded history that the code does not replay."""

    instance_id: str
    message: str

    def __str__(self) -> str:
        return f"instance {self.instance_id!r}: {self.message}"


def _replay(instance_id: str, events: Sequence[HistoryEvent], code: Registered) -> str | None:
    """None when ``code`` replays ``events``, else why not."""
    orchestration = Orchestration(instance_id, lambda name: code)
    try:
        for position, event in enumerate(events):
            orchestration.apply(event, replaying=True, position=position)
    except BaseException as exc:  # the code raised where the executor does not catch it
        return f"the code raised {type(exc).__name__}: {exc}"
    outcome = orchestration.outcome
    failure = outcome.failure if outcome is not None else None
    if failure is not None and failure.error_type == "NonDeterminismError":
        return failure.message
    return None


Source = WorkflowRuntime | HistoryStore | Sequence[HistoryEvent]


def _collect(
    source: Source, name: str, instance_ids: Iterable[str] | None
) -> dict[str, list[HistoryEvent]]:
    """The histories to check: by instance id (one list of events: ``"history"``)."""
    if isinstance(source, Sequence):
        return {"history": list(source)}
    store = source.store if isinstance(source, WorkflowRuntime) else source
    if instance_ids is None:
        instance_ids = [r.instance_id for r in store.records() if r.name == name]
    return {iid: [s.event for s in store.history(iid)] for iid in instance_ids}


def _problems(histories: dict[str, list[HistoryEvent]], code: Registered) -> list[ReplayProblem]:
    problems = []
    for instance_id, events in histories.items():
        message = _replay(instance_id, events, code)
        if message is not None:
            problems.append(ReplayProblem(instance_id, message))
    return problems


def replay_problems(
    source: Source,
    workflow: Callable[..., Any],
    *,
    instance_ids: Iterable[str] | None = None,
) -> list[ReplayProblem]:
    """The recorded histories of ``workflow`` that its code does not replay (empty: all do).

    Args:
        source: a runtime or a store (the histories of the instances of ``workflow``'s
            registered name), or one history as a list of events.
        workflow: the code to check, e.g. an edited version of the function that ran.
        instance_ids: only these instances of ``source``.
    """
    name = registered_name(workflow)
    histories = _collect(source, name, instance_ids)
    return _problems(histories, Registered.of(workflow, name))


def assert_replays(
    source: Source,
    workflow: Callable[..., Any],
    *,
    instance_ids: Iterable[str] | None = None,
) -> int:
    """Fail (AssertionError) unless ``workflow``'s code replays every recorded history of
    it in ``source`` (see :func:`replay_problems`); returns how many were checked.

    Run the old code in a test, then check the new code against what it recorded: an
    instance still running when the new code is deployed replays its history with it."""
    name = registered_name(workflow)
    histories = _collect(source, name, instance_ids)
    if not histories:
        raise AssertionError(f"no recorded instance of workflow {name!r} to replay")
    problems = _problems(histories, Registered.of(workflow, name))
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        raise AssertionError(
            f"{len(problems)} of {len(histories)} recorded histories of workflow {name!r} do "
            f"not replay against its code:\n{listed}"
        )
    return len(histories)
