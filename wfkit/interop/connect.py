"""Attach wfkit to a running Dapr workflow engine: ``wfkit.connect("localhost:50001")``.

The handle has the methods of ``DaprWorkflowClient`` for reading and managing instances
(state, history, raise an event, pause, resume, terminate, purge), lists instances with
filters, and copies histories into a DuckDB store (:mod:`wfkit.interop._mirror`), so
``sql``, ``history``, ``instances``, the widgets (``watch``, ``dashboard``) and time travel
(``wfkit.timetravel.open_cursor(conn, iid, workflow=fn)``, ``check_replay``) work on the
engine's instances as on wfkit's own. It starts no workflow: code runs on the engine's
workers (Dapr's SDK), not here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wfkit.core import _serde
from wfkit.core._context import registered_name
from wfkit.core._errors import InstanceNotFoundError, InvalidInstanceStateError
from wfkit.core._registry import Registry
from wfkit.core._state import (
    InstanceRecord,
    WorkflowHistoryEvent,
    WorkflowInstanceIdPage,
    WorkflowState,
)
from wfkit.core._time import to_naive_utc
from wfkit.interop._channel import EngineChannel
from wfkit.interop._mirror import EngineMirror, FollowState, SyncReport
from wfkit.runtime._seam import attach_view
from wfkit.store import DuckDBStore, _rows

if TYPE_CHECKING:
    import pandas

__all__ = ["Connection", "FollowState", "SyncReport", "connect"]


def connect(
    address: str,
    *,
    store: str | os.PathLike[str] | DuckDBStore | None = None,
    workflows: Iterable[Callable[..., Any]] = (),
    timeout: float = 5.0,
    poll_interval: float = 1.0,
) -> Connection:
    """A handle on the Dapr workflow engine at ``address`` (``host:port`` of its gRPC
    endpoint: ``daprd``'s ``--dapr-grpc-port``, or durabletask-go's sidecar).

    Args:
        store: where histories read from the engine are kept: None (DuckDB in memory), a
            file path, or a :class:`~wfkit.DuckDBStore`.
        workflows: the workflow functions the engine runs, for the execution graph and
            time travel (they replay the history with this code); more can be added with
            :meth:`Connection.register_workflow`.
        timeout: seconds to wait for the engine to answer, at connecting and per call;
            an engine that does not answer raises :class:`~wfkit.EngineUnavailableError`.
        poll_interval: default seconds between two reads of a watched instance.
    """
    return Connection(
        address, store=store, workflows=workflows, timeout=timeout, poll_interval=poll_interval
    )


def _open_store(store: str | os.PathLike[str] | DuckDBStore | None) -> DuckDBStore:
    if store is None:
        return DuckDBStore()
    if isinstance(store, DuckDBStore):
        return store
    if isinstance(store, str | os.PathLike):
        return DuckDBStore(store)
    raise TypeError(f"store must be None, a file path or a DuckDBStore, not {store!r}")


def _names(name: Any) -> list[str] | None:
    if name is None:
        return None
    items = [name] if isinstance(name, str) or callable(name) else list(name)
    return [registered_name(n) for n in items]


def _time(value: datetime | None) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"created_after/created_before take a datetime, not {value!r}")
    return None if value is None else to_naive_utc(value)


class Connection:
    """A read-mostly handle on a Dapr workflow engine (see :func:`connect`)."""

    def __init__(
        self,
        address: str,
        *,
        store: str | os.PathLike[str] | DuckDBStore | None = None,
        workflows: Iterable[Callable[..., Any]] = (),
        timeout: float = 5.0,
        poll_interval: float = 1.0,
    ):
        if not poll_interval > 0:
            raise ValueError(
                f"poll_interval is a positive number of seconds, not {poll_interval!r}"
            )
        registry = Registry()
        for fn in workflows:
            registry.add("workflow", fn, None)
        channel = EngineChannel(address, timeout=timeout)
        self.address = channel.target
        self.poll_interval = poll_interval
        self._channel = channel
        self._engine = EngineMirror(channel, _open_store(store), registry)
        attach_view(self, self._engine)

    @property
    def store(self) -> DuckDBStore:
        """The local copy of the engine's instances and histories."""
        return self._engine.store

    def register_workflow(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        """Give the code of a workflow the engine runs (for the graph and time travel)."""
        self._engine.registry.add("workflow", fn, name)

    # ------------------------------------------------------------------ DaprWorkflowClient
    def get_workflow_state(
        self, instance_id: str, *, fetch_payloads: bool = True, app_id: str | None = None
    ) -> WorkflowState | None:
        """The instance's current state on the engine, or None if there is no such one."""
        record = self._channel.instance(instance_id)
        return WorkflowState(record, fetch_payloads=fetch_payloads) if record else None

    def _wait(
        self, instance_id: str, completion: bool, timeout: float, payloads: bool
    ) -> WorkflowState:
        record = self._channel.wait(instance_id, completion=completion, timeout=timeout or None)
        if record is None:
            raise InstanceNotFoundError(
                f"no workflow instance with id {instance_id!r} on the engine to wait for"
            )
        return WorkflowState(record, fetch_payloads=payloads)

    def wait_for_workflow_start(
        self,
        instance_id: str,
        *,
        fetch_payloads: bool = False,
        timeout_in_seconds: int = 0,
        app_id: str | None = None,
    ) -> WorkflowState | None:
        """Wait until the instance has started; 0 waits forever."""
        return self._wait(instance_id, False, timeout_in_seconds, fetch_payloads)

    def wait_for_workflow_completion(
        self,
        instance_id: str,
        *,
        fetch_payloads: bool = True,
        timeout_in_seconds: int = 0,
        app_id: str | None = None,
    ) -> WorkflowState | None:
        """Wait until the instance has finished; 0 waits forever (TimeoutError after
        ``timeout_in_seconds``)."""
        return self._wait(instance_id, True, timeout_in_seconds, fetch_payloads)

    def list_workflow_instance_ids(
        self, *, page_size: int | None = None, continuation_token: str | None = None
    ) -> WorkflowInstanceIdPage:
        """One page of the engine's instance ids (the engine decides the order)."""
        if page_size is not None and not 1 <= page_size <= 4294967295:
            raise ValueError("page_size must be between 1 and 4294967295 (or None)")
        ids, token = self._channel.instance_ids(page_size, continuation_token)
        return WorkflowInstanceIdPage(ids, token)

    def get_workflow_history(self, instance_id: str) -> list[WorkflowHistoryEvent]:
        """The instance's history as Dapr's client reports it (the full events, with
        payloads, are in :meth:`history` and ``store``)."""
        self.refresh([instance_id])
        self._engine.require(instance_id)
        return [WorkflowHistoryEvent.of(s.event) for s in self.store.history(instance_id)]

    def _existing(self, instance_id: str, verb: str | None = None) -> InstanceRecord:
        """The instance's record; with ``verb``, only if it has not finished (the engine
        would accept the command and do nothing)."""
        record = self._channel.instance(instance_id)
        if record is None:
            raise InstanceNotFoundError(
                f"no workflow instance with id {instance_id!r} on the engine at "
                f"{self.address} (never scheduled, or purged)"
            )
        if verb is not None and record.status.is_terminal:
            raise InvalidInstanceStateError(
                f"cannot {verb} workflow instance {instance_id!r}: it has already finished "
                f"({record.status.name}). Only running instances accept it; purge_workflow "
                "deletes a finished one."
            )
        return record

    def raise_workflow_event(
        self, instance_id: str, event_name: str, *, data: Any = None, app_id: str | None = None
    ) -> None:
        """Send an event to an instance on the engine."""
        if not isinstance(event_name, str) or not event_name:
            raise ValueError("event_name must be a non-empty string")
        encoded = _serde.encode(data, what=f"data of event {event_name!r}")
        self._existing(instance_id, f"raise event {event_name!r} on")
        self._channel.raise_event(instance_id, event_name, encoded)

    def terminate_workflow(
        self,
        instance_id: str,
        *,
        output: Any = None,
        recursive: bool = True,
        app_id: str | None = None,
    ) -> None:
        """Terminate a running instance (and, by default, its child workflows)."""
        encoded = _serde.encode(output, what="terminate output")
        self._existing(instance_id, "terminate")
        self._channel.terminate(instance_id, encoded, recursive)

    def pause_workflow(self, instance_id: str, *, app_id: str | None = None) -> None:
        """Suspend an instance on the engine."""
        self._existing(instance_id, "pause")
        self._channel.suspend(instance_id)

    def resume_workflow(self, instance_id: str, *, app_id: str | None = None) -> None:
        """Resume a suspended instance on the engine (a finished one stays as it is)."""
        self._existing(instance_id)
        self._channel.resume(instance_id)

    def purge_workflow(
        self, instance_id: str, recursive: bool = True, *, app_id: str | None = None
    ) -> int:
        """Delete a finished instance on the engine (and from the local store); returns
        how many instances the engine deleted."""
        self._existing(instance_id)
        count = self._channel.purge(instance_id, recursive)
        self.refresh([instance_id])
        return count

    # ------------------------------------------------------------------ listing
    def list_instances(
        self,
        *,
        status: Any = None,
        name: Any = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> list[WorkflowState]:
        """The engine's instances now, oldest first, optionally only those with a status
        (a WorkflowStatus or its name, or several), of a workflow (a function or its
        name, or several), created at or after ``created_after`` and before
        ``created_before`` (naive datetimes are UTC)."""
        keep = self._filter(status, name, created_after, created_before)
        records = []
        for instance_id in self.iter_workflow_instance_ids():
            record = self._channel.instance(instance_id)
            if record is not None and keep(record):
                records.append(record)
        records.sort(key=lambda r: (r.created_at, r.instance_id))
        return [WorkflowState(r) for r in records]

    @staticmethod
    def _filter(
        status: Any, name: Any, after: datetime | None, before: datetime | None
    ) -> Callable[[InstanceRecord], bool]:
        statuses, names = _rows.status_names(status), _names(name)
        after, before = _time(after), _time(before)

        def keep(r: InstanceRecord) -> bool:
            return (
                (statuses is None or r.status.name in statuses)
                and (names is None or r.name in names)
                and (after is None or r.created_at >= after)
                and (before is None or r.created_at < before)
            )

        return keep

    def iter_workflow_instance_ids(self, *, page_size: int = 1024) -> Iterator[str]:
        token = None
        while True:
            page = self.list_workflow_instance_ids(page_size=page_size, continuation_token=token)
            yield from page.instance_ids
            if not page.continuation_token:
                return
            token = page.continuation_token

    # ------------------------------------------------------------------ the local copy
    def refresh(self, instance_ids: Iterable[str] | None = None) -> SyncReport:
        """Copy what is new on the engine into the store: for every instance (or the
        given ones), its state, and the events its history gained, if its state changed
        since the last refresh. Instances gone from the engine leave the store."""
        if instance_ids is None:
            return self._engine.sync_all()
        ids = [instance_ids] if isinstance(instance_ids, str) else list(instance_ids)
        return self._engine.sync(ids)

    def sql(self, query: str, params: Any = None) -> pandas.DataFrame:
        """A DuckDB query on the store's tables (``instances``, ``history``, ``tasks``,
        ``timers``; see ``docs/store.md``), as of the last refresh."""
        return self.store.sql(query, params)

    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None, refresh: bool = True
    ) -> pandas.DataFrame:
        """One instance's history as a DataFrame (refreshed from the engine first)."""
        if refresh:
            self.refresh([instance_id])
        self._engine.require(instance_id)
        return self.store.history_frame(instance_id, start=start, stop=stop)

    def instances(
        self,
        *,
        status: Any = None,
        name: Any = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        refresh: bool = True,
    ) -> pandas.DataFrame:
        """The instances as a DataFrame (refreshed from the engine first), filtered as
        :meth:`list_instances` filters."""
        if refresh:
            self.refresh()
        frame = self.store.instances_frame(statuses=_rows.status_names(status), names=_names(name))
        after, before = _time(created_after), _time(created_before)
        if after is not None:
            frame = frame[frame["created_at"] >= after]
        if before is not None:
            frame = frame[frame["created_at"] < before]
        return frame.reset_index(drop=True)

    # ------------------------------------------------------------------ widgets
    def watch(self, instance_id: str, *, interval: float | None = None) -> Any:
        """Show an instance running on the engine (graph, events panel, history table),
        read again every ``interval`` seconds (default ``poll_interval``) until it
        finishes or the widget closes."""
        from wfkit.widgets import watch

        self.refresh([instance_id])
        self._engine.require(instance_id)
        return watch(self, instance_id, interval=interval or self.poll_interval)

    def dashboard(self, *, include_children: bool = False) -> Any:
        """Instances by status and workflow, as of a refresh now."""
        from wfkit.widgets import dashboard

        self.refresh()
        return dashboard(self, include_children=include_children)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Connection to {self.address}, {self.store!r}>"
