"""Run many workflow instances and report progress, stoppable with Ctrl-C (or a kernel's
stop button) at any moment without leaving the store half-written.

An interrupt is held back while an instance is being scheduled (the engine changes its
state and commits it in one step) and acts between two steps; instances already
scheduled are durable and keep running, or resume when a file store is opened again.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from wfkit.core._state import WorkflowState
from wfkit.runtime._client import DaprWorkflowClient

#: Seconds between two progress reports (the last one is always sent).
REPORT_SECONDS = 0.1


@dataclass(frozen=True)
class Progress:
    """How far a :func:`run_many` call got."""

    total: int
    """instances asked for"""
    scheduled: int
    """instances scheduled so far"""
    finished: int
    """instances that reached COMPLETED, FAILED or TERMINATED"""
    failed: int
    """finished instances that did not complete (FAILED or TERMINATED)"""
    interrupted: bool = False
    """True in the last report of a call stopped by an interrupt"""

    def describe(self) -> str:
        """One line for a progress bar's label."""
        text = f"{self.finished:,}/{self.total:,} finished"
        if self.failed:
            text += f" ({self.failed:,} failed)"
        if self.scheduled < self.total:
            text += f" · {self.scheduled:,} scheduled"
        if self.interrupted:
            text += (
                " · interrupted: the instances scheduled are stored and keep running "
                "(or resume when the store is opened again)"
            )
        return text


@contextlib.contextmanager
def interrupt_held() -> Iterator[None]:
    """Hold SIGINT (Ctrl-C, a kernel's stop button) until the block ends, then raise it.

    Python runs signal handlers in the main thread only; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[tuple[int, Any]] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(*received[0])
            else:
                raise KeyboardInterrupt


def run_many(
    runtime: Any,
    jobs: Iterable[tuple[Any, Any]],
    *,
    on_progress: Callable[[Progress], None] | None = None,
    timeout_in_seconds: float = 0,
) -> list[WorkflowState]:
    """Schedule one instance per ``(workflow, input)`` of ``jobs``, wait for all of them,
    and return their final states in the order of ``jobs``.

    ``on_progress`` receives a :class:`Progress` a few times a second and once at the
    end. On Ctrl-C (KeyboardInterrupt) it receives a last report with ``interrupted=True``
    and the interrupt is raised again; nothing is left half-written.

    Args:
        runtime: the ``WorkflowRuntime`` (or a ``DaprWorkflowClient`` of one).
        jobs: pairs of a workflow (function or registered name) and its input.
        timeout_in_seconds: wall seconds to wait for each instance; 0 waits forever.
    """
    client = runtime if isinstance(runtime, DaprWorkflowClient) else DaprWorkflowClient(runtime)
    jobs = list(jobs)
    ids: list[str] = []
    states: dict[str, WorkflowState] = {}
    last = 0.0

    def report(*, force: bool = False, interrupted: bool = False) -> None:
        nonlocal last
        now = time.monotonic()
        if on_progress is None or not (force or now - last >= REPORT_SECONDS):
            return
        last = now
        failed = sum(s.runtime_status.name != "COMPLETED" for s in states.values())
        on_progress(Progress(len(jobs), len(ids), len(states), failed, interrupted))

    def sweep() -> None:
        """Note the instances that finished since the last look."""
        for instance_id in ids:
            if instance_id not in states:
                state = client.get_workflow_state(instance_id)
                if state is not None and state.runtime_status.is_terminal:
                    states[instance_id] = state

    try:
        for workflow, data in jobs:
            with interrupt_held():
                ids.append(client.schedule_new_workflow(workflow, input=data))
            report()
        report(force=True)
        for instance_id in ids:
            if instance_id not in states:
                state = client.wait_for_workflow_completion(
                    instance_id,
                    timeout_in_seconds=timeout_in_seconds,  # type: ignore[arg-type]
                )
                assert state is not None
                states[instance_id] = state
            if time.monotonic() - last >= REPORT_SECONDS:
                sweep()
                report()
    except KeyboardInterrupt:
        report(force=True, interrupted=True)
        raise
    report(force=True)
    return [states[i] for i in ids]
