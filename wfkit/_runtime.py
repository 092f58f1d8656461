"""WorkflowRuntime: registers workflows and activities and runs them in-process."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from . import _serde
from ._clock import Clock, make_clock
from ._engine import Engine
from ._errors import WfkitWarning
from ._registry import Registry
from ._store import HistoryStore, MemoryStore

_last_started: WorkflowRuntime | None = None
_last_lock = threading.Lock()


def last_started_runtime() -> WorkflowRuntime | None:
    return _last_started


class WorkflowActivityContext:
    """The context an activity function receives as its first argument."""

    def __init__(self, workflow_id: str, task_id: int, task_execution_id: str = ""):
        self._workflow_id = workflow_id
        self._task_id = task_id
        self._task_execution_id = task_execution_id

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

    def get_propagated_history(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<WorkflowActivityContext {self._workflow_id!r} task {self._task_id}>"


def _make_store(spec: Any) -> HistoryStore:
    if spec is None or spec == "memory":
        return MemoryStore()
    if hasattr(spec, "commit") and hasattr(spec, "history"):
        return spec
    raise ValueError(f"store must be None, 'memory' or a store object, not {spec!r}")


class WorkflowRuntime:
    """Registers workflows and activities and runs their instances in this process.

    The arguments before ``*`` are Dapr's (accepted so Dapr code runs unchanged; those
    about the sidecar connection have no meaning here). wfkit's own:

    Args:
        clock: ``"virtual"`` (default: time moves only when told, or by auto-skip),
            ``"system"`` (wall time), or a clock object.
        store: where instances and histories live; ``None`` (default) keeps them in memory.
        max_payload_bytes: ceiling for one serialized input, output or event payload.
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
        clock: Any = "virtual",
        store: Any = None,
        max_payload_bytes: int | None = _serde.DEFAULT_MAX_PAYLOAD_BYTES,
    ):
        self._registry = Registry()
        self._clock: Clock = make_clock(clock)
        self._store = _make_store(store)
        self._engine = Engine(
            self._registry,
            self._store,
            self._clock,
            max_payload_bytes=max_payload_bytes,
            max_workers=maximum_thread_pool_workers,
        )

    # ------------------------------------------------------------------ registration
    def register_workflow(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        self._register("workflow", fn, name)

    def register_activity(self, fn: Callable[..., Any], *, name: str | None = None) -> None:
        """Register an activity; ``def`` runs in a thread pool, ``async def`` on an event loop."""
        self._register("activity", fn, name)

    def _register(self, kind: str, fn: Callable[..., Any], name: str | None) -> None:
        entry = self._registry.add(kind, fn, name)
        if kind == "workflow":
            running = self._engine.running_instances(entry.name)
            if running:
                warnings.warn(
                    f"workflow {entry.name!r} was registered again while {len(running)} "
                    f"instance(s) of the previous code are running ({', '.join(running[:3])}"
                    f"{', ...' if len(running) > 3 else ''}); they keep running the old code "
                    "until they finish or are replayed.",
                    WfkitWarning,
                    stacklevel=3,
                )

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
        self._engine.start()
        with _last_lock:
            _last_started = self

    def shutdown(self) -> None:
        """Stop the background thread; unfinished instances stay in the store."""
        global _last_started
        self._engine.shutdown()
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
    def clock(self) -> Any:
        """The runtime's clock (``now()``, ``advance(...)``, ``pending_timers()``, ``auto_skip``)."""
        return self._clock

    @property
    def is_running(self) -> bool:
        return self._engine.running

    @property
    def workflows(self) -> list[str]:
        return sorted(self._registry.workflows)

    @property
    def activities(self) -> list[str]:
        return sorted(self._registry.activities)

    def watch(self, instance_id: str) -> Any:
        """Show an instance in the notebook: its live execution graph, the clock and events
        panel, its history table and, on request, its timeline (``wfkit.widgets``)."""
        from .widgets import watch

        return watch(self, instance_id)

    def __repr__(self) -> str:
        state = "started" if self._engine.running else "not started"
        return (
            f"<WorkflowRuntime {state}, {len(self._registry.workflows)} workflows, "
            f"{len(self._registry.activities)} activities, {self._clock!r}>"
        )
