"""A runtime for a test, running one instance to its end, and moving its virtual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from wfkit.core._clock import VirtualClock
from wfkit.core._orchestration import registered_name
from wfkit.core._state import WorkflowState
from wfkit.runtime._client import DaprWorkflowClient
from wfkit.runtime._runtime import WorkflowRuntime

#: The virtual time a test runtime starts at, so that timestamps repeat from run to run.
START = datetime(2025, 1, 1)


@contextmanager
def runtime_for_tests(
    *, start: datetime = START, store: Any = ":memory:", **options: Any
) -> Iterator[WorkflowRuntime]:
    """A started runtime with a store of its own (``":memory:"``: DuckDB in memory, so
    ``sql`` and ``history`` work; ``"memory"``: plain Python structures, no SQL)
    and a virtual clock that stands still at ``start`` until it is moved (auto-skip
    jumps it while :func:`run_workflow` waits); shut down on leaving the block.
    ``options`` go to :class:`~wfkit.WorkflowRuntime` (e.g. ``max_payload_bytes``)."""
    runtime = WorkflowRuntime(clock=VirtualClock(start, flow=False), store=store, **options)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.shutdown()


def run_workflow(
    runtime: WorkflowRuntime,
    workflow: Callable[..., Any] | str,
    input: Any = None,
    *,
    instance_id: str | None = None,
    timeout: float = 30.0,
) -> WorkflowState:
    """Run one instance of ``workflow`` to its end and return its final state.

    ``workflow`` is a function (registered on ``runtime`` first if it is not yet) or a
    registered name; the runtime is started if it is not. Whatever way the instance ends
    (completed, failed, terminated) its state is returned: assert on
    ``state.runtime_status``, ``state.serialized_output`` and ``state.failure_details``.

    Raises:
        TimeoutError: the instance has not ended after ``timeout`` wall seconds (with its
            status and what it waits for: an external event is raised with
            ``DaprWorkflowClient.raise_workflow_event``).
    """
    if callable(workflow) and registered_name(workflow) not in runtime.workflows:
        runtime.register_workflow(workflow)
    if not runtime.is_running:
        runtime.start()
    client = DaprWorkflowClient(runtime)
    started = client.schedule_new_workflow(workflow, input=input, instance_id=instance_id)
    try:
        state = client.wait_for_workflow_completion(started, timeout_in_seconds=timeout)  # type: ignore[arg-type]
    except TimeoutError:
        now = client.get_workflow_state(started)
        status = now.runtime_status.name if now is not None else "gone"
        raise TimeoutError(
            f"workflow {registered_name(workflow)!r} (instance {started!r}) has not ended "
            f"after {timeout:g} s: it is {status}. An instance waiting for an event needs "
            "it raised (DaprWorkflowClient.raise_workflow_event)."
        ) from None
    assert state is not None  # the wait raises for an instance that does not exist
    return state


def advance(runtime: WorkflowRuntime, by: timedelta | float) -> datetime:
    """Move the runtime's virtual clock forward by ``by`` (a timedelta, or seconds), firing
    every timer due on the way in order; returns the new virtual time."""
    delta = by if isinstance(by, timedelta) else timedelta(seconds=by)
    return _virtual_clock(runtime).advance(delta)


def fire_next_timer(runtime: WorkflowRuntime) -> datetime | None:
    """Move the virtual clock to the next pending timer and fire it (and any due at the
    same instant); returns the new time, or None when no timer is pending."""
    return _virtual_clock(runtime).advance_to_next_timer()


def _virtual_clock(runtime: WorkflowRuntime) -> VirtualClock:
    clock = runtime.clock
    if not isinstance(clock, VirtualClock):
        raise TypeError(f"the runtime's clock is {clock!r}, which cannot be moved by hand")
    return clock
