"""The async ``DaprWorkflowClient`` of ``dapr.ext.workflow.aio``: the same calls as the
synchronous client, awaited. Each call runs in a worker thread, so waiting for a result
never blocks the event loop (a notebook cell's ``await`` keeps widgets live)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, TypeVar

from wfkit.core._state import UNSET, WorkflowHistoryEvent, WorkflowInstanceIdPage, WorkflowState
from wfkit.runtime._client import DaprWorkflowClient as _SyncClient
from wfkit.runtime._runtime import WorkflowRuntime

T = TypeVar("T")


class DaprWorkflowClient:
    """Async client for workflow instances, with Dapr's method names, arguments and defaults.

    ``DaprWorkflowClient()`` talks to the runtime started last in this process;
    ``DaprWorkflowClient(runtime=wfr)`` to a given one. Dapr's connection arguments are
    accepted and ignored.
    """

    def __init__(
        self,
        host: str | None = None,
        port: str | None = None,
        logger_options: Any = None,
        max_grpc_message_length: int | None = None,
        *,
        runtime: WorkflowRuntime | None = None,
    ):
        self._sync = _SyncClient(
            host, port, logger_options, max_grpc_message_length, runtime=runtime
        )

    @property
    def runtime(self) -> WorkflowRuntime:
        return self._sync.runtime

    async def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(functools.partial(method, *args, **kwargs))

    async def schedule_new_workflow(
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
        return await self._call(
            self._sync.schedule_new_workflow,
            workflow,
            input=input,
            instance_id=instance_id,
            start_at=start_at,
            reuse_id_policy=reuse_id_policy,
            app_id=app_id,
        )

    async def get_workflow_state(
        self, instance_id: str, *, fetch_payloads: bool = True, app_id: str | None = None
    ) -> WorkflowState | None:
        """The instance's current state, or None if there is no such instance."""
        return await self._call(
            self._sync.get_workflow_state, instance_id, fetch_payloads=fetch_payloads, app_id=app_id
        )

    async def wait_for_workflow_start(
        self,
        instance_id: str,
        *,
        fetch_payloads: bool = False,
        timeout_in_seconds: int = 0,
        app_id: str | None = None,
    ) -> WorkflowState | None:
        """Wait until the instance has started (is no longer PENDING); 0 waits forever."""
        return await self._call(
            self._sync.wait_for_workflow_start,
            instance_id,
            fetch_payloads=fetch_payloads,
            timeout_in_seconds=timeout_in_seconds,
            app_id=app_id,
        )

    async def wait_for_workflow_completion(
        self,
        instance_id: str,
        *,
        fetch_payloads: bool = True,
        timeout_in_seconds: int = 0,
        app_id: str | None = None,
    ) -> WorkflowState | None:
        """Wait until the instance is COMPLETED, FAILED or TERMINATED; 0 waits forever."""
        return await self._call(
            self._sync.wait_for_workflow_completion,
            instance_id,
            fetch_payloads=fetch_payloads,
            timeout_in_seconds=timeout_in_seconds,
            app_id=app_id,
        )

    async def raise_workflow_event(
        self, instance_id: str, event_name: str, *, data: Any = None, app_id: str | None = None
    ) -> None:
        """Send an event to an instance (names are case-insensitive; early events are buffered)."""
        await self._call(
            self._sync.raise_workflow_event, instance_id, event_name, data=data, app_id=app_id
        )

    async def terminate_workflow(
        self,
        instance_id: str,
        *,
        output: Any = None,
        recursive: bool = True,
        app_id: str | None = None,
    ) -> None:
        """Terminate a running instance (and, by default, its child workflows)."""
        await self._call(
            self._sync.terminate_workflow,
            instance_id,
            output=output,
            recursive=recursive,
            app_id=app_id,
        )

    async def pause_workflow(self, instance_id: str, *, app_id: str | None = None) -> None:
        """Suspend an instance: events are kept and applied when it is resumed."""
        await self._call(self._sync.pause_workflow, instance_id, app_id=app_id)

    async def resume_workflow(self, instance_id: str, *, app_id: str | None = None) -> None:
        """Resume a suspended instance; on any other instance it changes nothing."""
        await self._call(self._sync.resume_workflow, instance_id, app_id=app_id)

    async def purge_workflow(
        self, instance_id: str, recursive: bool = True, *, app_id: str | None = None
    ) -> None:
        """Delete a finished instance and its history (and its children's)."""
        await self._call(self._sync.purge_workflow, instance_id, recursive, app_id=app_id)

    async def list_workflow_instance_ids(
        self, *, page_size: int | None = None, continuation_token: str | None = None
    ) -> WorkflowInstanceIdPage:
        """One page of instance ids, oldest first."""
        return await self._call(
            self._sync.list_workflow_instance_ids,
            page_size=page_size,
            continuation_token=continuation_token,
        )

    async def iter_workflow_instance_ids(self, *, page_size: int = 1024) -> AsyncIterator[str]:
        """Every instance id, a page at a time."""
        token = None
        while True:
            page = await self.list_workflow_instance_ids(
                page_size=page_size, continuation_token=token
            )
            for instance_id in page.instance_ids:
                yield instance_id
            if not page.continuation_token:
                return
            token = page.continuation_token

    async def get_workflow_history(self, instance_id: str) -> list[WorkflowHistoryEvent]:
        """The instance's history events, oldest first."""
        return await self._call(self._sync.get_workflow_history, instance_id)

    async def rerun_workflow_from_event(
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
        and running from there (see the synchronous client)."""
        return await self._call(
            self._sync.rerun_workflow_from_event,
            instance_id,
            event_id,
            new_instance_id=new_instance_id,
            input=input,
            new_child_workflow_instance_id=new_child_workflow_instance_id,
            app_id=app_id,
        )

    async def __aenter__(self) -> DaprWorkflowClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None
