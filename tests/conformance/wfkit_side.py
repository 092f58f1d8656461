"""The wfkit side of the conformance suite: the public runtime, driven like the sidecar.

:class:`RuntimeTarget` runs a scenario on ``wfkit.WorkflowRuntime`` with a virtual clock
whose auto-skip is off, so that time moves only between scripted steps, exactly as the
driver's does; activities run on one worker thread, in the order they were scheduled.
The store is wfkit's default unless told otherwise.
Every committed history event is recorded (continue-as-new resets the stored history),
and the actions are read back from them.

:func:`cold_replay` replays a wfkit history into a fresh executor, as wfkit does after a
restart, and says how it ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dapr_driver import Action, Failure, Report, decode, wfkit_action

import wfkit
from wfkit.core import _history as wh
from wfkit.core._orchestration import Orchestration
from wfkit.store import StoredEvent


class RuntimeTarget:
    """wfkit's public runtime and client, with a recorder on its store."""

    name = "wfkit-runtime"
    module = wfkit

    def __init__(
        self,
        workflows: Iterable[Callable[..., Any]],
        activities: Iterable[Callable[..., Any]],
        start: datetime,
        *,
        store: Any = ":memory:",
        warm: int | None = None,
    ):
        self.wfr = wfkit.WorkflowRuntime(
            clock=wfkit.VirtualClock(start, auto_skip=False, flow=False),
            maximum_thread_pool_workers=1,
            store=store,
            history_cache_max_instances=max(warm, 1) if warm is not None else None,
        )
        if warm == 0:  # below what a user can ask for: every idle executor goes, every turn
            self.wfr._engine._warm.limit = 0
        for fn in workflows:
            self.wfr.register_workflow(fn)
        for fn in activities:
            self.wfr.register_activity(fn)
        self.client = wfkit.DaprWorkflowClient(self.wfr)
        self.committed: list[StoredEvent] = []
        store = self.wfr._engine.store
        commit = store.commit

        def recording_commit(batch: Any) -> None:
            commit(batch)
            self.committed.extend(batch.events)

        store.commit = recording_commit  # type: ignore[method-assign]

    @property
    def now(self) -> datetime:
        return self.wfr.clock.now()

    def schedule(self, workflow: Callable[..., Any] | str, input: Any = None, *, instance_id: str):
        return self.client.schedule_new_workflow(workflow, input=input, instance_id=instance_id)

    def start(self) -> None:
        self.wfr.start()

    def close(self) -> None:
        self.wfr.shutdown()

    def settle(self) -> None:
        if self.wfr.is_running:
            self.wfr.clock.advance(timedelta(0))

    def _ended(self, instance_id: str) -> bool:
        state = self.client.get_workflow_state(instance_id)
        return state is not None and state.runtime_status in (
            wfkit.WorkflowStatus.COMPLETED,
            wfkit.WorkflowStatus.FAILED,
            wfkit.WorkflowStatus.TERMINATED,
        )

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> bool:
        """Raise an event; False (as the driver) when the instance has already ended (the
        command is then dropped, as Dapr's engine drops it)."""
        ended = self._ended(instance_id)
        self.client.raise_workflow_event(instance_id, name, data=data)
        return not ended

    def suspend(self, instance_id: str) -> bool:
        ended = self._ended(instance_id)
        self.client.pause_workflow(instance_id)
        return not ended

    def resume(self, instance_id: str) -> bool:
        self.client.resume_workflow(instance_id)
        return True

    def terminate(self, instance_id: str, output: Any = None, *, recursive: bool = True) -> bool:
        ended = self._ended(instance_id)
        self.client.terminate_workflow(instance_id, output=output, recursive=recursive)
        return not ended

    def advance(self, delta: timedelta) -> None:
        self.wfr.clock.advance(delta)

    def run_to_end(self, instance_id: str, *, max_timers: int = 1_000) -> None:
        """Settle, then fire timers one instant at a time until the instance ends."""
        clock = self.wfr.clock
        for _ in range(max_timers):
            self.settle()
            record = self.wfr._engine.record(instance_id)
            if record is None or record.status.is_terminal:
                return
            if clock.advance_to_next_timer() is None:
                return
        raise AssertionError(f"{instance_id!r} did not end after {max_timers} timers")

    def actions(self, instance_id: str) -> list[Action]:
        return [
            a
            for s in self.committed
            if s.instance_id == instance_id and (a := wfkit_action(s.event)) is not None
        ]

    def reports(self) -> dict[str, Report]:
        out = {}
        for record in self.wfr._engine.records():
            failure = None
            if record.failure is not None:
                failure = Failure(record.failure.error_type, record.failure.message)
            out[record.instance_id] = Report(
                record.status.name,
                decode(record.output),
                failure,
                record.custom_status,
                self.actions(record.instance_id),
            )
        return out

    def history(self, instance_id: str) -> list[wh.HistoryEvent]:
        return [s.event for s in self.wfr._engine.store.history(instance_id)]


@dataclass
class Replayed:
    status: str  # COMPLETED | FAILED | TERMINATED | RUNNING | SUSPENDED
    result: Any
    failure: Failure | None
    custom_status: str | None
    leftover: list[Action]


def cold_replay(
    instance_id: str, history: Sequence[wh.HistoryEvent], resolve: Callable[[str], Any]
) -> Replayed:
    """Replay ``history`` into a fresh executor (``replaying=True`` throughout)."""
    orchestration = Orchestration(instance_id, resolve)
    for position, event in enumerate(history):
        orchestration.apply(event, replaying=True, position=position)
    outcome = orchestration.outcome
    leftover = [a for a in map(wfkit_action, orchestration.take_decisions()) if a is not None]
    if outcome is None:
        status = "SUSPENDED" if orchestration.is_suspended else "RUNNING"
        return Replayed(status, None, None, orchestration.custom_status, leftover)
    failure = None
    if outcome.failure is not None:
        failure = Failure(outcome.failure.error_type, outcome.failure.message)
    return Replayed(
        outcome.status, decode(outcome.result), failure, orchestration.custom_status, leftover
    )


def assert_cold_replay_matches(
    instance_id: str,
    history: Sequence[wh.HistoryEvent],
    resolve: Callable[[str], Any],
    report: Report,
) -> None:
    """A cold replay of ``history`` ends as the warm run did, with no decision left over."""
    replayed = cold_replay(instance_id, history, resolve)
    assert replayed.failure is None or replayed.failure.error_type != "NonDeterminismError", (
        f"{instance_id}: cold replay is not deterministic: {replayed.failure.message}"
    )
    expected = (report.status, report.result, report.failure, report.custom_status)
    got = (replayed.status, replayed.result, replayed.failure, replayed.custom_status)
    assert got == expected, f"{instance_id}: cold replay {got} != warm run {expected}"
    assert replayed.leftover == [], f"{instance_id}: cold replay decided more: {replayed.leftover}"


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, indent=1)
