"""DaprWorkflowClient: schedules and manages instances of an in-process runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from wfkit.core import _serde
from wfkit.core._context import registered_name
from wfkit.core._errors import (
    AppNotFoundError,
    InstanceNotFoundError,
    InvalidArgumentError,
    RuntimeNotStartedError,
)
from wfkit.core._history import (
    EventRaised,
    ExecutionResumed,
    ExecutionSuspended,
    ExecutionTerminated,
)
from wfkit.core._state import (
    UNSET,
    InstanceRecord,
    WorkflowHistoryEvent,
    WorkflowInstanceIdPage,
    WorkflowState,
    WorkflowStatus,
    random_instance_id,
)
from wfkit.core._time import to_naive_utc
from wfkit.runtime import _apps
from wfkit.runtime._fork import rerun_from_event
from wfkit.runtime._runtime import WorkflowRuntime, last_started_runtime


class DaprWorkflowClient:
    """Client for workflow instances, with Dapr's method names, arguments and defaults.

    ``DaprWorkflowClient()`` talks to the runtime started last in this process;
    ``DaprWorkflowClient(wfr)`` (or ``runtime=wfr``) to a given one. The connection
    arguments of Dapr's client are accepted and ignored.
    """

    def __init__(
        self,
        host: Any = None,
        port: str | None = None,
        logger_options: Any = None,
        max_grpc_message_length: int | None = None,
        *,
        runtime: WorkflowRuntime | None = None,
    ):
        if isinstance(host, WorkflowRuntime):
            runtime, host = host, None
        self._runtime = runtime

    @property
    def runtime(self) -> WorkflowRuntime:
        runtime = self._runtime or last_started_runtime()
        if runtime is None:
            raise RuntimeNotStartedError(
                "no WorkflowRuntime is started in this process: create one, register your "
                "workflows and call wfr.start() (or pass it: DaprWorkflowClient(wfr))"
            )
        return runtime

    @property
    def _engine(self) -> Any:
        return _apps.engine_of_runtime(self.runtime)

    def _engine_for(self, app_id: str | None) -> Any:
        """The engine of the app that hosts the instance: this runtime's, or (``app_id``)
        that of the runtime serving another app in this process."""
        runtime = self._runtime or self.runtime
        if app_id is None or app_id == runtime.app_id:
            return _apps.engine_of_runtime(runtime)
        other = _apps.serving(app_id)
        if other is None:
            raise AppNotFoundError(
                f"no runtime serves app {app_id!r} in this process: create one with "
                f"WorkflowRuntime(app_id={app_id!r}). For apps in other processes, use "
                "Dapr's engine (wfkit.interop.sidecar)."
            )
        return _apps.engine_of_runtime(other)

    # ------------------------------------------------------------------ starting
    def schedule_new_workflow(
        self,
        workflow: Callable[..., Any] | str,
        *,
        input: Any = None,
        instance_id: str | None = None,
        start_at: datetime | None = None,
        reuse_id_policy: Any = None,
        app_id: str | None = None,
    ) -> str:
        """Schedule a new instance of ``workflow``; returns its instance id."""
        name = registered_name(workflow)
        if instance_id is not None and (not isinstance(instance_id, str) or not instance_id):
            raise ValueError("instance_id must be a non-empty string (or None for a new uuid)")
        if instance_id is not None:
            _serde.check_text(instance_id, what="instance_id")
        if start_at is not None:
            if not isinstance(start_at, datetime):
                raise TypeError(f"start_at takes a datetime, not {type(start_at).__name__}")
            start_at = to_naive_utc(start_at)
        engine = self._engine_for(app_id)
        encoded = _serde.encode(input, what=f"input of workflow {name!r}", limit=engine.limit)
        return engine.schedule(name, encoded, instance_id or random_instance_id(), start_at)

    # ------------------------------------------------------------------ reading
    def get_workflow_state(
        self, instance_id: str, *, fetch_payloads: bool = True, app_id: str | None = None
    ) -> WorkflowState | None:
        """The instance's current state, or None if there is no such instance."""
        record = self._engine_for(app_id).record(instance_id)
        return WorkflowState(record, fetch_payloads=fetch_payloads) if record else None

    def _wait(
        self,
        instance_id: str,
        done: Callable[[InstanceRecord], bool],
        timeout_in_seconds: float,
        fetch_payloads: bool,
        app_id: str | None = None,
    ) -> WorkflowState:
        engine = self._engine_for(app_id)
        record = engine.wait(instance_id, done, timeout_in_seconds or None)
        if record is None:
            raise InstanceNotFoundError(
                f"no workflow instance with id {instance_id!r} to wait for (never scheduled, "
                "or purged)"
            )
        return WorkflowState(record, fetch_payloads=fetch_payloads)

    def wait_for_workflow_start(
        self,
        instance_id: str,
        *,
        fetch_payloads: bool = False,
        timeout_in_seconds: int = 0,
        app_id: str | None = None,
    ) -> WorkflowState | None:
        """Wait until the instance has started (is no longer PENDING); 0 waits forever."""
        return self._wait(
            instance_id,
            lambda r: r.status is not WorkflowStatus.PENDING,
            timeout_in_seconds,
            fetch_payloads,
            app_id,
        )

    def wait_for_workflow_completion(
        self,
        instance_id: str,
        *,
        fetch_payloads: bool = True,
        timeout_in_seconds: int = 0,
        app_id: str | None = None,
    ) -> WorkflowState | None:
        """Wait until the instance is COMPLETED, FAILED or TERMINATED; 0 waits forever.

        With a virtual clock and auto-skip on, timers are fast-forwarded while you wait.
        Raises TimeoutError when ``timeout_in_seconds`` (wall time) pass first.
        """
        return self._wait(
            instance_id, lambda r: r.status.is_terminal, timeout_in_seconds, fetch_payloads, app_id
        )

    def list_workflow_instance_ids(
        self, *, page_size: int | None = None, continuation_token: str | None = None
    ) -> WorkflowInstanceIdPage:
        """One page of instance ids, oldest first."""
        if page_size is not None and not 1 <= page_size <= 4294967295:
            raise ValueError("page_size must be between 1 and 4294967295 (or None)")
        ids = [r.instance_id for r in self._engine.records()]
        start = 0
        if continuation_token:
            if not (isinstance(continuation_token, str) and continuation_token.isdigit()):
                raise InvalidArgumentError(
                    f"continuation_token {continuation_token!r} is not one this client gave: "
                    "pass the continuation_token of the previous page, or None for the first"
                )
            start = int(continuation_token)
        stop = len(ids) if page_size is None else start + page_size
        token = str(stop) if stop < len(ids) else None
        return WorkflowInstanceIdPage(ids[start:stop], token)

    def iter_workflow_instance_ids(self, *, page_size: int = 1024) -> Iterator[str]:
        token = None
        while True:
            page = self.list_workflow_instance_ids(page_size=page_size, continuation_token=token)
            yield from page.instance_ids
            if not page.continuation_token:
                return
            token = page.continuation_token

    def get_workflow_history(self, instance_id: str) -> list[WorkflowHistoryEvent]:
        """The instance's history events, oldest first."""
        engine = self._engine
        engine.require(instance_id)
        history = engine.committed_store().history(instance_id)
        return [WorkflowHistoryEvent.of(s.event) for s in history]

    # ------------------------------------------------------------------ acting
    def raise_workflow_event(
        self, instance_id: str, event_name: str, *, data: Any = None, app_id: str | None = None
    ) -> None:
        """Send an event to an instance (names are case-insensitive; early events are buffered)."""
        if not isinstance(event_name, str) or not event_name:
            raise ValueError("event_name must be a non-empty string")
        _serde.check_text(event_name, what="event_name")
        engine = self._engine_for(app_id)
        encoded = _serde.encode(data, what=f"data of event {event_name!r}", limit=engine.limit)
        engine.command(
            instance_id,
            lambda now: EventRaised(timestamp=now, event_name=event_name, input=encoded),
            verb=f"raise event {event_name!r} on",
        )

    def terminate_workflow(
        self,
        instance_id: str,
        *,
        output: Any = None,
        recursive: bool = True,
        app_id: str | None = None,
    ) -> None:
        """Terminate a running instance (and, by default, its child workflows)."""
        engine = self._engine_for(app_id)
        encoded = _serde.encode(output, what="terminate output", limit=engine.limit)
        engine.command(
            instance_id,
            lambda now: ExecutionTerminated(timestamp=now, output=encoded, recursive=recursive),
            verb="terminate",
        )

    def pause_workflow(self, instance_id: str, *, app_id: str | None = None) -> None:
        """Suspend an instance: events are kept and applied when it is resumed."""
        self._engine_for(app_id).command(
            instance_id,
            lambda now: ExecutionSuspended(timestamp=now),
            verb="pause",
            applies=lambda r: r.status is not WorkflowStatus.SUSPENDED,
        )

    def resume_workflow(self, instance_id: str, *, app_id: str | None = None) -> None:
        """Resume a suspended instance; on any other instance it changes nothing."""
        self._engine_for(app_id).command(
            instance_id,
            lambda now: ExecutionResumed(timestamp=now),
            verb="resume",
            applies=lambda r: r.status is WorkflowStatus.SUSPENDED,
        )

    def purge_workflow(
        self, instance_id: str, recursive: bool = True, *, app_id: str | None = None
    ) -> int:
        """Delete a finished instance and its history (and its children's); returns the count."""
        return self._engine_for(app_id).purge(instance_id, recursive)

    def rerun_workflow_from_event(
        self,
        instance_id: str,
        event_id: int,
        *,
        new_instance_id: str | None = None,
        input: Any = UNSET,
        new_child_workflow_instance_id: str | None = None,
        app_id: str | None = None,
    ) -> str:
        """Start a new instance replaying ``instance_id`` up to scheduling event ``event_id``
        and running from there (optionally with a new input for that call).

        The source must have finished and must not be a child workflow. This is a fork
        (``wfkit.timetravel.fork``, which can also replace results and code): the new
        instance records its origin, and ``wfkit.timetravel.compare`` shows both."""
        if not isinstance(event_id, int) or not 0 <= event_id <= 4294967295:
            raise ValueError("event_id must be an int between 0 and 4294967295")
        if new_instance_id == "":
            raise ValueError("new_instance_id must be None or a non-empty string")
        return rerun_from_event(
            self._engine, instance_id, event_id, new_instance_id or random_instance_id(), input
        )

    def close(self) -> None:
        pass

    def __enter__(self) -> DaprWorkflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
