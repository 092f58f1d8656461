"""The determinism check of time travel: :mod:`wfkit.inspect`'s (shared with
:mod:`wfkit.testing`), taking a cursor too, with results a widget can show."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wfkit.inspect import _replay_check as checks
from wfkit.inspect._replay_results import ReplayResult as CheckedHistory
from wfkit.inspect._workflow_code import WorkflowCode
from wfkit.timetravel._cursor import Cursor


@dataclasses.dataclass(frozen=True)
class ReplayResult(CheckedHistory):
    __doc__ = CheckedHistory.__doc__

    @classmethod
    def of(cls, result: CheckedHistory) -> ReplayResult:
        fields = dataclasses.fields(CheckedHistory)
        return cls(**{f.name: getattr(result, f.name) for f in fields})

    def view(self) -> Any:
        """The divergence side by side (recorded and current code), as a widget."""
        from wfkit.timetravel._player import DivergenceView

        return DivergenceView(self)


def check_replay(
    history: object,
    workflow: WorkflowCode | None = None,
    *,
    instance_id: str | None = None,
    recorded_workflow: WorkflowCode | None = None,
) -> ReplayResult:
    """Replay a recorded history against workflow code and report the first divergence.

    Args:
        history: what :func:`open_cursor` opens: a runtime or a client (with
            ``instance_id``), a store, a history file, a list of events (wfkit's or
            Dapr's), a :class:`History` or a cursor.
        workflow: the code to check (a function, or a registered name). Default: the
            code registered for the history's workflow.
        instance_id: the instance, for a runtime, client or store.
        recorded_workflow: the code that recorded the history, to quote its lines when
            the history does not carry them (wfkit records the line of each decision;
            Dapr's histories do not). Default, for a runtime's instance checked against
            other code: the code the runtime runs it with.

    Returns:
        A :class:`ReplayResult`; ``bool(result)`` is True when the code replays.
    """
    if isinstance(history, Cursor):
        result = checks.check_history(history.history, history.engine, workflow, recorded_workflow)
    else:
        result = checks.check_replay(
            history, workflow, instance_id=instance_id, recorded_workflow=recorded_workflow
        )
    return ReplayResult.of(result)


def check_histories(
    folder: str | Path | Iterable[str | Path],
    workflows: object = None,
    *,
    pattern: str = "*.json",
) -> list[ReplayResult]:
    return [ReplayResult.of(r) for r in checks.check_histories(folder, workflows, pattern=pattern)]


def assert_histories_replay(
    folder: str | Path | Iterable[str | Path] | Iterable[CheckedHistory],
    workflows: object = None,
    *,
    pattern: str = "*.json",
) -> list[ReplayResult]:
    results = checks.assert_histories_replay(folder, workflows, pattern=pattern)
    return [ReplayResult.of(r) for r in results]


check_histories.__doc__ = checks.check_histories.__doc__
assert_histories_replay.__doc__ = checks.assert_histories_replay.__doc__
