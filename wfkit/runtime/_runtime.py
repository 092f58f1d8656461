"""WorkflowRuntime: registers workflows and activities and runs them in-process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from wfkit.core import _serde
from wfkit.core._clock import Clock, make_clock
from wfkit.core._errors import InstanceNotFoundError, InvalidArgumentError, StoreError
from wfkit.core._orchestration import registered_name
from wfkit.core._propagation import PropagatedHistory
from wfkit.core._registry import Registry
from wfkit.runtime import _apps
from wfkit.runtime._engine import Engine
from wfkit.runtime._watchdog import Limits
from wfkit.store import (
    DuckDBStore,
    HistoryStore,
    MemoryStore,
    QueryableStore,
    _rows,
    history_frame,
    instances_frame,
    is_read_only,
)

if TYPE_CHECKING:
    import pandas

_last_started: WorkflowRuntime | None = None
_last_lock = threading.Lock()


def last_started_runtime() -> WorkflowRuntime | None:
    return _last_started


class WorkflowActivityContext:
    """The context an activity function receives as its first argument."""

    def __init__(
        self,
        workflow_id: str,
        task_id: int,
        task_execution_id: str = "",
        *,
        propagated: PropagatedHistory | None = None,
    ):
        self._workflow_id = workflow_id
        self._task_id = task_id
        self._task_execution_id = task_execution_id
        self._propagated = propagated

    @property
    def workflow_id(self) -> str:
        """Id of the workflow instance that scheduled this activity."""
        return self._workflow_id

    @property
    def task_id(self) -> int:
        """The activity call's task id, unique within its instance."""
        return self._task_id

    @property
    def task_execution_id(self) -> str:
        """Stable across retry attempts of one call (for idempotency keys)."""
        return self._task_execution_id

    def get_inner_context(self) -> WorkflowActivityContext:
        return self

    def get_propagated_history(self) -> PropagatedHistory | None:
        """History the calling workflow handed down with ``propagation=``; None if it did not."""
        return self._propagated

    def __repr__(self) -> str:
        return f"<WorkflowActivityContext {self._workflow_id!r} task {self._task_id}>"


def _make_store(spec: Any) -> HistoryStore:
    if isinstance(spec, str) and spec == "memory":
        return MemoryStore()
    if isinstance(spec, str | os.PathLike):
        if not str(spec):
            raise ValueError("store must be a non-empty path, None, 'memory' or a store object")
        return DuckDBStore(spec)
    if isinstance(spec, HistoryStore):
        return spec
    raise ValueError(
        "store must be None (the app's store in this process), ':memory:' (a DuckDB store of "
        "its own, in memory), a file path (a DuckDB file), 'memory' (plain Python structures, "
        f"fastest, no SQL) or a store object, not {spec!r}"
    )


class WorkflowRuntime:
    """Registers workflows and activities and runs their instances in this process.

    The arguments before ``*`` are Dapr's (accepted so Dapr code runs unchanged; those
    about the sidecar connection have no meaning here). The process plays Dapr's sidecar:
    a runtime created without a store uses its app's store, so a new runtime sees the
    instances of the one before; a new runtime on the store of an earlier one takes over
    from it (the earlier engine stops, and the earlier object becomes a view of the new
    one). wfkit's own arguments:

    Args:
        app_id: the app this runtime serves (Dapr takes it from ``dapr run --app-id``);
            default ``$APP_ID``, else ``"wfkit"``. ``call_activity(..., app_id=...)`` and
            ``call_child_workflow(..., app_id=...)`` run on the runtime serving that app.
        clock: ``"virtual"`` (default: flows with wall time, jumps when told or while a
            caller waits for a result), ``"frozen"`` (moves only when told),
            ``"system"`` (wall time), or a clock object (``VirtualClock(...)``).
        store: where instances and histories live: ``None`` (default) the app's store in
            this process, DuckDB in memory (queryable with ``wfr.sql``); ``":memory:"`` a
            DuckDB store in memory of this runtime's own (isolation, as in tests); a path
            (``str`` or ``pathlib.Path``) a DuckDB file, which survives the process (reopen
            it to resume unfinished instances); ``"memory"`` plain Python structures
            (fastest, no SQL); or a store object such as
            ``DuckDBStore(path, read_only=True)``.
        max_payload_bytes: ceiling for one serialized input, output or event payload.
        stuck_turn_seconds: workflow code that runs this long without yielding is
            reported (a ``WfkitWarning`` with the instance and the source line) and the
            runtime goes on without it; ``terminate_workflow`` ends such an instance.
        stalled_activity_seconds: an activity running this long is reported (None: never).
        shutdown_seconds: ``shutdown()`` returns after at most this long; code still
            running then is left behind and runs again at the next start.

    Of Dapr's arguments, ``history_cache_max_instances`` has its meaning here too: how many
    running instances keep their executor in memory between events (default 100,000). The
    least recently run idle ones beyond it are evicted and replay their history from the
    store when their next event arrives, which the workflow cannot tell.
    ``maximum_thread_pool_workers`` bounds the threads that run ``def`` activities (default
    ``min(32, cores + 4)``, as Python's thread pool): one runs them while they finish
    quickly, and one more joins, up to the bound, whenever calls wait and none finished
    for 2 ms (the running ones block on I/O, a sleep, a lock).
    """

    def __init__(
        self,
        host: str | None = None,
        port: str | None = None,
        logger_options: Any = None,
        interceptors: Sequence[Any] | None = None,
        maximum_concurrent_activity_work_items: int | None = None,
        maximum_concurrent_orchestration_work_items: int | None = None,
        maximum_thread_pool_workers: int | None = None,
        worker_ready_timeout: float | None = None,
        max_grpc_message_length: int | None = None,
        disable_stateful_history: bool = False,
        history_cache_ttl: float | None = None,
        history_cache_max_instances: int | None = None,
        history_cache_max_bytes: int | None = None,
        *,
        app_id: str | None = None,
        clock: Any = "virtual",
        store: Any = None,
        max_payload_bytes: int | None = _serde.DEFAULT_MAX_PAYLOAD_BYTES,
        stuck_turn_seconds: float = Limits.stuck_turn_seconds,
        stalled_activity_seconds: float | None = Limits.stalled_activity_seconds,
        shutdown_seconds: float = Limits.shutdown_seconds,
    ):
        if max_payload_bytes is not None and (
            isinstance(max_payload_bytes, bool)
            or not isinstance(max_payload_bytes, int)
            or max_payload_bytes <= 0
        ):
            raise InvalidArgumentError(
                f"max_payload_bytes must be a positive int (bytes) or None (no limit), not "
                f"{max_payload_bytes!r}"
            )
        limits = Limits(stuck_turn_seconds, stalled_activity_seconds, shutdown_seconds)
        self._app_id = _apps.app_id_of(app_id)
        self._registry = Registry()
        self._clock: Clock = make_clock(clock)
        self._store = _apps.app_store(self._app_id) if store is None else _make_store(store)
        earlier = _apps.owner(self._store)
        if earlier is not None:
            _apps.engine_of_runtime(earlier).hand_over()  # one engine runs a store at a time
        self._engine: Engine = Engine(
            self._registry,
            self._store,
            self._clock,
            max_payload_bytes=max_payload_bytes,
            max_workers=maximum_thread_pool_workers,
            limits=limits,
            warm_instances=history_cache_max_instances,
            app_id=self._app_id,
        )
        _apps.bind(self, self._engine)
        if earlier is not None:
            self._make_view(earlier)
        _apps.serve(self)

    def _make_view(self, earlier: WorkflowRuntime) -> None:
        """This runtime took over ``earlier``'s store: ``earlier`` acts as this runtime from
        now on, so code still holding it reaches the instances and the engine running them."""
        earlier._app_id = self._app_id
        earlier._registry = self._registry
        earlier._clock = self._clock
        earlier._store = self._store
        earlier._engine = self._engine
        _apps.bind(earlier, self._engine)

    # ------------------------------------------------------------------ registration
    def register_workflow(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        self._register("workflow", fn, name)

    def register_activity(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        """Register an activity; ``def`` runs in a thread pool, ``async def`` on an event loop."""
        self._register("activity", fn, name)

    def register_versioned_workflow(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        version_name: str | None = None,
        is_latest: bool,
    ) -> None:
        """Register ``fn`` as version ``version_name`` (default: the function's name) of the
        workflow ``name``. New instances run the latest version; an instance keeps the
        version it started with (its history records it), and waits if that version is not
        registered."""
        self._registry.add_version(fn, name, version_name, is_latest)
        self._engine.code_replaced(name)
        self._engine.recover()  # unfinished instances of the store that waited for it

    def versioned_workflow(
        self,
        __fn: Callable[..., Any] | None = None,
        *,
        name: str,
        version_name: str | None = None,
        is_latest: bool,
    ) -> Any:
        """Decorator form of :meth:`register_versioned_workflow`."""

        def wrapper(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register_versioned_workflow(
                fn, name=name, version_name=version_name, is_latest=is_latest
            )
            return fn

        return wrapper(__fn) if __fn is not None else wrapper

    def _register(self, kind: str, fn: Callable[..., Any], name: str | None) -> None:
        entry = self._registry.add(kind, fn, name)
        if kind == "workflow":
            # as on Dapr, running instances replay with the new code at their next event
            self._engine.code_replaced(entry.name)
            # unfinished instances of the store that waited for this workflow
            self._engine.recover()

    def workflow(self, __fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
        """Decorator registering a workflow: ``@wfr.workflow`` or ``@wfr.workflow(name=...)``."""

        def wrapper(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register_workflow(fn, name=name)
            return fn

        return wrapper(__fn) if __fn is not None else wrapper

    def activity(self, __fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
        """Decorator registering an activity: ``@wfr.activity`` or ``@wfr.activity(name=...)``."""

        def wrapper(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register_activity(fn, name=name)
            return fn

        return wrapper(__fn) if __fn is not None else wrapper

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start running instances in the background (returns at once)."""
        global _last_started
        if is_read_only(self._store):
            raise StoreError(
                f"this runtime's store {self._store!r} is open read-only: query it (wfr.sql, "
                "wfr.instances, wfr.history, the client's get_* methods) but it cannot run "
                "instances. Open it writable (no other process writing it) to resume them."
            )
        self._engine.start()
        with _last_lock:
            _last_started = self

    def shutdown(self) -> None:
        """Stop the background thread; unfinished instances stay in the store (a store file
        is closed, so another process can open it; it reopens if this runtime is used again)."""
        global _last_started
        self._engine.shutdown()
        self._store.close()
        with _last_lock:
            if _last_started is self:
                _last_started = None

    def wait_for_worker_ready(self, timeout: float = 30.0) -> bool:
        return self._engine.running

    def __enter__(self) -> WorkflowRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # ------------------------------------------------------------------ wfkit's own
    @property
    def app_id(self) -> str:
        """The app this runtime serves (calls with ``app_id=`` route by it)."""
        return self._app_id

    @property
    def clock(self) -> Any:
        """The runtime's clock (``now()``, ``advance(...)``, ``pending_timers()``, ``auto_skip``)."""
        return self._clock

    @property
    def is_running(self) -> bool:
        return self._engine.running

    @property
    def error(self) -> str | None:
        """Why the runtime cannot go on as it should now: its engine stopped, or the store
        refuses writes (None when all is well)."""
        return self._engine.error

    @property
    def problems(self) -> list[str]:
        """Recent warnings and errors, oldest first: workflow code stuck without yielding,
        stalled activities, writes the store refused (and when it accepted them again)."""
        return list(self._engine.problems)

    @property
    def workflows(self) -> list[str]:
        return sorted(self._registry.workflows)

    @property
    def activities(self) -> list[str]:
        return sorted(self._registry.activities)

    def serve_http(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        token: str | None = None,
        allow_remote: bool = False,
        poll_wait: float = 0.0,
        allowed_hosts: list[str] | tuple[str, ...] = (),
        stack_traces: bool = False,
        request_timeout: float = 10.0,
    ) -> Any:
        """Serve Dapr's workflow HTTP API for this runtime from a background thread.

        ``POST {url}/v1.0/workflows/dapr/{name}/start``, ``GET .../{instanceID}``,
        ``.../raiseEvent/{event}``, ``.../terminate|pause|resume|purge`` (and the
        ``v1.0-beta1`` prefix), an OpenAPI description at ``/openapi.json``, and the routes
        the ``wfkit`` command line uses (``wfkit list --url {url}``). Returns the server:
        ``.url``, ``.port``, ``.shutdown()``, usable as a context manager.

        Args:
            port: TCP port; 0 (default) picks a free one.
            host: interface; loopback only unless ``allow_remote=True``.
            token: if set, every request must carry it (``dapr-api-token: <token>`` as
                Dapr, or ``Authorization: Bearer <token>``).
            poll_wait: a status poll (``GET`` of an unfinished instance) waits on it this
                many wall seconds before answering, as a short wait would (auto-skip may
                jump time meanwhile); default 0: reading a status never moves time, as on
                Dapr. ``?wait=`` sets it per request.
            allowed_hosts: more names the ``Host`` header may carry (``"box.lan"``, or
                ``"box.lan:8080"`` behind a proxy; ``"*"``: any). The server's address,
                ``localhost``, ``127.0.0.1`` and ``[::1]`` are always accepted; others are
                refused, so that a web page cannot reach the API through a DNS name.
            stack_traces: include a failure's stack trace (which names files on this
                machine) in ``properties`` and histories.
            request_timeout: seconds in which a whole request must arrive.
        """
        from wfkit.http._server import serve

        return serve(
            self,
            port=port,
            host=host,
            token=token,
            allow_remote=allow_remote,
            poll_wait=poll_wait,
            allowed_hosts=allowed_hosts,
            stack_traces=stack_traces,
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ queries
    @property
    def store(self) -> HistoryStore:
        """Where instances and histories live (a DuckDBStore unless ``store="memory"``),
        with every turn so far in it."""
        return self._engine.committed_store()

    def sql(self, query: str, params: Any = None) -> pandas.DataFrame:
        """Run a DuckDB SQL query on the store and return the result as a DataFrame.

        Tables: ``instances``, ``history`` (one row per event), views ``tasks`` (one row
        per activity or child workflow call) and ``timers``; see ``docs/store.md``.
        ``params`` fills ``?`` (a list) or ``$name`` (a dict) placeholders. For reading:
        changing the tables from SQL is not supported.
        """
        store = self.store
        if not isinstance(store, QueryableStore):
            raise StoreError(
                f"SQL queries need the DuckDB store, and this runtime keeps its instances in "
                f"{store!r}. Create it with WorkflowRuntime() (DuckDB in memory) or "
                "WorkflowRuntime(store='file.duckdb'); wfr.instances() and wfr.history() work "
                "with every store."
            )
        return store.sql(query, params)

    def history(
        self, instance_id: str, *, start: int = 0, stop: int | None = None
    ) -> pandas.DataFrame:
        """One instance's history as a DataFrame, one row per event, in order.

        ``start`` and ``stop`` select events by position (``seq``) as a slice does:
        ``wfr.history(iid, stop=n + 1)`` is the history up to and including event ``n``
        (time travel). Columns as the ``history`` table (see ``docs/store.md``).
        """
        if self._engine.record(instance_id) is None:
            raise InstanceNotFoundError(
                f"no workflow instance with id {instance_id!r} (never scheduled, or purged); "
                "wfr.instances() lists the ones that exist"
            )
        return history_frame(self.store, instance_id, start=start, stop=stop)

    def instances(self, *, status: Any = None, name: Any = None) -> pandas.DataFrame:
        """Instances as a DataFrame, oldest first, one row each (columns as the ``instances``
        table). ``status``: a WorkflowStatus or its name, or several; ``name``: a workflow
        (function or registered name), or several."""
        statuses = _rows.status_names(status)
        names = None
        if name is not None:
            names = [
                registered_name(n)
                for n in ([name] if isinstance(name, str) or callable(name) else name)
            ]
        return instances_frame(self.store, statuses=statuses, names=names)

    def watch(self, instance_id: str) -> Any:
        """Show an instance in the notebook: its live execution graph, the clock and events
        panel, its history table and, on request, its timeline (``wfkit.widgets``)."""
        from wfkit.widgets import watch

        return watch(self, instance_id)

    def __repr__(self) -> str:
        state = "started" if self._engine.running else "not started"
        return (
            f"<WorkflowRuntime {state}, {len(self._registry.workflows)} workflows, "
            f"{len(self._registry.activities)} activities, {self._clock!r}>"
        )
