"""The real-engine side of the conformance suite: Dapr's SDK on the durabletask-go sidecar.

:class:`RealEngineTarget` offers the verbs of the driver and of wfkit's runtime target, so
the same scripts play on it. Time is the wall clock here: a scenario that moves time by
hand (``Advance``) waits that long; long waits are shortened by the scenario's time factor. Reports are read back through the SDK's client: the state for status,
output, failure and custom status, and the raw history (protobuf, converted by wfkit's
interop) for the actions. Timer fire times are compared as seconds after the start of
the instance's first episode (:func:`relative`), since the engine's clock is real.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import dapr.ext.workflow as dapr_wf
from dapr.ext.workflow.logger import LoggerOptions
from dapr_driver import SENTINEL, Action, Failure, Report, decode, wfkit_action

from wfkit.core import _history as wh
from wfkit.interop.dapr import from_dapr
from wfkit.interop.sidecar import Sidecar

#: Every wait is bounded, and generous: the machine is shared and the engine is real.
WAIT = 60
#: How long nothing may change before the engine counts as settled.
QUIET = 0.5
TERMINAL = ("COMPLETED", "FAILED", "TERMINATED")

_QUIET_LOGS = LoggerOptions(log_level=logging.CRITICAL, log_handler=logging.NullHandler())


def _unflag(fn: Callable[..., Any], flag: str) -> Callable[..., Any]:
    """Let Dapr's runtime register a function object it registered before (in another run)."""
    fn.__dict__.pop(flag, None)
    return fn


class RealEngineTarget:
    """A fresh SDK runtime, registered with the scenario's functions, on one sidecar."""

    name = "real-engine"
    module = dapr_wf

    def __init__(
        self,
        workflows: Iterable[Callable[..., Any]],
        activities: Iterable[Callable[..., Any]],
        sidecar: Sidecar,
    ):
        address = {"host": sidecar.host, "port": str(sidecar.port)}
        self.runtime = dapr_wf.WorkflowRuntime(**address, logger_options=_QUIET_LOGS)
        for fn in workflows:
            self.runtime.register_workflow(_unflag(fn, "_workflow_registered"))
        for fn in activities:
            self.runtime.register_activity(_unflag(fn, "_activity_registered"))
        self.client = dapr_wf.DaprWorkflowClient(**address, logger_options=_QUIET_LOGS)
        self.grpc = self.client._DaprWorkflowClient__obj  # type: ignore[attr-defined]
        self.known: list[str] = []
        self.started = False
        self.scheduled_at = time.monotonic()
        self.moved = 0.0

    # ------------------------------------------------------------------ verbs
    def schedule(self, workflow: Any, input: Any = None, *, instance_id: str) -> str:
        # the sidecar answers a new instance only once a worker is connected, so the
        # worker starts first; deliveries meant for before the start then follow it
        self.start()
        self.known.append(instance_id)
        self.scheduled_at = time.monotonic()
        return self.client.schedule_new_workflow(workflow, input=input, instance_id=instance_id)

    def start(self) -> None:
        if not self.started:
            self.runtime.start()
            assert self.runtime.wait_for_worker_ready(WAIT), "the SDK's worker did not connect"
            self.started = True

    def close(self) -> None:
        self.runtime.shutdown()

    def _status(self, instance_id: str) -> str:
        state = self.client.get_workflow_state(instance_id, fetch_payloads=False)
        return "PENDING" if state is None else state.runtime_status.name

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> bool:
        if self._status(instance_id) in TERMINAL:
            return False
        with self._recorded(instance_id, wh.EventRaised):
            self.client.raise_workflow_event(instance_id, name, data=data)
        return True

    def suspend(self, instance_id: str) -> bool:
        with self._recorded(instance_id, wh.ExecutionSuspended):
            self.client.pause_workflow(instance_id)
        return True

    def resume(self, instance_id: str) -> bool:
        with self._recorded(instance_id, wh.ExecutionResumed):
            self.client.resume_workflow(instance_id)
        return True

    def terminate(self, instance_id: str, output: Any = None, *, recursive: bool = True) -> bool:
        if self._status(instance_id) in TERMINAL:
            return False
        with self._recorded(instance_id, wh.ExecutionTerminated):
            self.client.terminate_workflow(instance_id, output=output, recursive=recursive)
        return True

    @contextmanager
    def _recorded(self, instance_id: str, kind: type, timeout: float = 10.0) -> Iterator[None]:
        """Wait (boundedly) until the delivery made inside shows in the history, so that
        a slow engine is not taken for a settled one."""

        def count() -> int:
            return sum(isinstance(e, kind) for e in self.history(instance_id))

        before = count()
        yield
        deadline = time.monotonic() + timeout
        while count() == before and time.monotonic() < deadline:
            if self._status(instance_id) in TERMINAL:
                return
            time.sleep(0.02)

    def advance(self, delta: timedelta) -> None:
        """The engine's clock is the wall clock: time moves by waiting, until the script's
        time (the sum of its moves) has passed since the root instance was scheduled."""
        self.moved += delta.total_seconds()
        time.sleep(max(0.0, self.scheduled_at + self.moved - time.monotonic()))

    # ------------------------------------------------------------------ waiting
    def history(self, instance_id: str) -> list[wh.HistoryEvent]:
        return from_dapr(self.grpc.get_instance_history(instance_id))

    def _discover(self) -> None:
        """Add the child workflows the known instances started."""
        for instance_id in list(self.known):
            for event in self.history(instance_id):
                child = isinstance(event, wh.ChildWorkflowInstanceCreated)
                if child and event.instance_id not in self.known:
                    self.known.append(event.instance_id)

    def _progress(self) -> tuple[Any, ...]:
        self._discover()
        out = []
        for instance_id in self.known:
            events = self.history(instance_id)
            asked = sum(isinstance(e, wh.TaskScheduled) for e in events)
            answered = sum(isinstance(e, wh.TaskCompleted | wh.TaskFailed) for e in events)
            out.append((instance_id, self._status(instance_id), len(events), asked - answered))
        return tuple(out)

    def settle(self) -> None:
        """Wait until every known instance waits for time or an event: no activity is
        running and no history has changed for ``QUIET`` seconds."""
        deadline = time.monotonic() + WAIT
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            now = self._progress()
            if now != last:
                last, since = now, time.monotonic()
            elif all(p[3] == 0 for p in now) and time.monotonic() - since >= QUIET:
                return
            time.sleep(0.05)
        raise AssertionError(f"the engine did not settle in {WAIT} s: {last}")

    def _timer_pending(self, instance_id: str) -> bool:
        events = self.history(instance_id)
        fired = {e.timer_id for e in events if isinstance(e, wh.TimerFired)}
        return any(
            isinstance(e, wh.TimerCreated) and e.fire_at < SENTINEL and e.task_id not in fired
            for e in events
        )

    def run_to_end(self, instance_id: str) -> None:
        """Settle; while the instance waits for a (short) timer, let it fire and settle
        again, until the instance ends or waits for nothing that time brings."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            self.settle()
            if self._status(instance_id) in TERMINAL:
                return
            if self._timer_pending(instance_id):
                time.sleep(0.05)
                continue
            # a timer may have fired just now: at rest only if nothing moves any more
            before = self._progress()
            time.sleep(QUIET)
            if self._progress() == before:
                return
        raise AssertionError(f"{instance_id!r} did not end in {WAIT} s")

    # ------------------------------------------------------------------ reading
    def reports(self) -> dict[str, Report]:
        self._discover()
        out = {}
        for instance_id in self.known:
            state = self.client.get_workflow_state(instance_id, fetch_payloads=True)
            if state is None:
                continue
            details = state.failure_details
            failure = Failure(details.error_type, details.message) if details else None
            actions = [a for e in self.history(instance_id) if (a := wfkit_action(e)) is not None]
            out[instance_id] = Report(
                state.runtime_status.name,
                decode(state.serialized_output),
                failure,
                state.serialized_custom_status or None,
                actions,
            )
        return out

    def first_episode(self, instance_id: str) -> datetime:
        """When the newest generation of the instance first ran (timers count from it)."""
        for event in self.history(instance_id):
            if isinstance(event, wh.WorkflowStarted):
                return event.timestamp
        raise AssertionError(f"{instance_id!r} never ran")


class About(float):
    """Seconds on the wall clock, equal to another ``About`` within ``TOLERANCE``: the real
    engine runs each episode some milliseconds after the instant Dapr's executor offline
    takes, and the script's steps wait for the engine to settle."""

    TOLERANCE = 1.5

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, float):
            return NotImplemented
        return abs(self - other) <= self.TOLERANCE

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = float.__hash__


ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def relative(report: Report, start: datetime) -> Report:
    """``report`` with times as seconds after ``start``: timer fire times (an indefinite
    wait's timer keeps its fixed far-future time) and the timestamps the workflow returned;
    GUIDs, which the engines derive from the episode's time, as their order of appearance."""
    guids: dict[str, str] = {}

    def value(v: Any) -> Any:
        if isinstance(v, list):
            return [value(x) for x in v]
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, str) and ISO_TIME.match(v):
            return About((datetime.fromisoformat(v) - start).total_seconds())
        if isinstance(v, str) and GUID.match(v):
            return guids.setdefault(v, f"guid #{len(guids) + 1}")
        return v

    def shift(action: Action) -> Action:
        action = replace(action, input=value(action.input))
        if action.fire_at is None or action.fire_at >= SENTINEL:
            return action
        seconds = About((action.fire_at - start).total_seconds())
        return replace(action, fire_at=seconds)  # type: ignore[arg-type]

    actions = [shift(a) for a in report.actions]
    return replace(report, result=value(report.result), actions=actions)
