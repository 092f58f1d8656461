"""The one door to an engine for the layers above ``runtime``.

:class:`EngineView` is what every view, cursor and export reads of an engine: records,
histories (through its store), the code registered for a name, the live executor of a
running instance, and a subscription to committed batches. Two kinds of engine offer it:
the engine of a ``WorkflowRuntime`` in this process (through :class:`LocalEngine`), and
the local copy of a remote engine that ``wfkit.connect`` keeps.

:class:`LocalEngine` adds what only an engine that runs the code can do: start an
instance from a history prefix (a fork), and name the code an instance was forked with.
It wraps the engine by composition, so this module is the one place outside the engine
that reads one of its private members (that code).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from wfkit.core._clock import Clock, PendingTimer
from wfkit.core._history import HistoryEvent
from wfkit.core._orchestration import Orchestration, WorkflowInvoker
from wfkit.core._registry import Registered, Registry, VersionedWorkflow
from wfkit.core._state import InstanceRecord
from wfkit.runtime import _commands as commands
from wfkit.store import Batch, HistoryStore, StoredEvent

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


@runtime_checkable
class EngineView(Protocol):
    """What the layers above read of an engine, local or a copy of a remote one."""

    @property
    def store(self) -> HistoryStore: ...

    @property
    def registry(self) -> Registry:
        """Workflow code by name (``Registry.workflow``), for replays of finished ones."""
        ...

    @property
    def clock(self) -> Clock: ...

    @property
    def error(self) -> str | None:
        """Why the engine cannot go on as it should (it stopped, or the store refuses
        writes), for the views to show; None while all is well."""
        ...

    def record(self, instance_id: str) -> InstanceRecord | None: ...

    def records(self) -> list[InstanceRecord]: ...

    def require(self, instance_id: str) -> InstanceRecord:
        """The record of ``instance_id``; InstanceNotFoundError if there is none."""
        ...

    def subscribe(self, callback: Callable[[Batch], None]) -> Callable[[], None]:
        """Call ``callback(batch)`` after every commit; returns the unsubscribe function."""
        ...

    def executing(self, instance_id: str) -> set[int]: ...

    def orchestration(self, instance_id: str) -> Orchestration | None:
        """The live executor of a running instance, if this process runs it."""
        ...

    def waiting_for_events(self, instance_id: str) -> list[str]: ...

    def pending_timers(self) -> list[PendingTimer]: ...

    def workflow_code(self, instance_id: str, name: str) -> Registered | VersionedWorkflow:
        """The code an instance runs (a fork's own, or the code registered as ``name``)."""
        ...


class LocalEngine:
    """The engine of a ``WorkflowRuntime`` in this process, as the layers above use it."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def __repr__(self) -> str:
        return f"<LocalEngine of {self._engine!r}>"

    # ------------------------------------------------------------------ what it holds
    @property
    def store(self) -> HistoryStore:
        return self._engine.committed_store()

    @property
    def registry(self) -> Registry:
        return self._engine.registry

    @property
    def clock(self) -> Clock:
        return self._engine.clock

    @property
    def error(self) -> str | None:
        return self._engine.error

    @property
    def limit(self) -> int | None:
        """The payload size limit (bytes) of the runtime, None for the default."""
        return self._engine.limit

    def now(self) -> datetime:
        return self._engine.clock.now()

    # ------------------------------------------------------------------ reading
    def record(self, instance_id: str) -> InstanceRecord | None:
        return self._engine.record(instance_id)

    def records(self) -> list[InstanceRecord]:
        return self._engine.records()

    def require(self, instance_id: str) -> InstanceRecord:
        return commands.require(self._engine, instance_id)

    def history(self, instance_id: str) -> list[HistoryEvent]:
        """The events of ``instance_id``'s stored history, oldest first."""
        return [stored.event for stored in self.store.history(instance_id)]

    def stored_history(self, instance_id: str) -> list[StoredEvent]:
        return self.store.history(instance_id)

    def subscribe(self, callback: Callable[[Batch], None]) -> Callable[[], None]:
        return self._engine.subscribe(callback)

    def executing(self, instance_id: str) -> set[int]:
        return self._engine.executing(instance_id)

    def orchestration(self, instance_id: str) -> Orchestration | None:
        return self._engine.orchestration(instance_id)

    def code_epoch(self, instance_id: str) -> int:
        return self._engine.code_epoch(instance_id)

    def waiting_for_events(self, instance_id: str) -> list[str]:
        return self._engine.waiting_for_events(instance_id)

    def pending_timers(self) -> list[PendingTimer]:
        return self._engine.pending_timers()

    def workflow_code(self, instance_id: str, name: str) -> Registered | VersionedWorkflow:
        return self._engine.workflow_code(instance_id, name)

    def pinned_code(self, instance_id: str) -> Registered | None:
        """The code ``instance_id`` runs instead of the registered one (a fork started
        with edited code), if any: a fork of it keeps that code."""
        return self._engine._code.get(instance_id)  # noqa: SLF001 (the seam knows the engine)

    # ------------------------------------------------------------------ starting
    def start_from_history(
        self,
        record: InstanceRecord,
        prefix: list[HistoryEvent],
        *,
        override: tuple[int, str | None] | None = None,
        workflow: WorkflowInvoker | None = None,
    ) -> str:
        """Create ``record``'s instance with ``prefix`` as the start of its history and run
        it on from there (see ``Engine.start_from_history``); ``workflow`` is the code to
        run it with instead of the registered one."""
        code = cast("Registered | None", workflow)  # the engine only invokes it
        return self._engine.start_from_history(record, prefix, override=override, workflow=code)


#: id(engine) -> its LocalEngine, while something holds that (which holds the engine, so
#: the id is not reused meanwhile); a mapping keyed on the engine would keep it alive.
_local: weakref.WeakValueDictionary[int, LocalEngine] = weakref.WeakValueDictionary()
_local_lock = threading.Lock()


def local_engine(engine: Engine) -> LocalEngine:
    """The one :class:`LocalEngine` of ``engine`` (the same object while it is in use, so
    views can key what they keep per engine on it)."""
    with _local_lock:
        seam = _local.get(id(engine))
        if seam is None:
            seam = _local[id(engine)] = LocalEngine(engine)
        return seam


#: Objects that hold a view of an engine they do not run (a ``Connection`` and its copy
#: of a remote engine's instances), as they registered it (:func:`attach_view`).
_views: weakref.WeakKeyDictionary[object, EngineView] = weakref.WeakKeyDictionary()


def attach_view(owner: object, view: EngineView) -> None:
    """Make :func:`engine_of` ``(owner)`` answer ``view`` (for as long as ``owner`` lives)."""
    _views[owner] = view


def engine_of(source: object) -> EngineView:
    """The engine behind a ``WorkflowRuntime``, a ``DaprWorkflowClient`` (sync or async),
    a ``Connection`` (its copy of a remote engine), an engine, or a view of one."""
    from wfkit.runtime import _apps
    from wfkit.runtime._engine import Engine
    from wfkit.runtime._runtime import WorkflowRuntime

    if isinstance(source, Engine):
        return local_engine(source)
    if isinstance(source, EngineView):
        return source
    with contextlib.suppress(TypeError):  # not weakly referable: not registered
        view = _views.get(source)
        if view is not None:
            return view
    # a client finds its runtime (the one started last, if it was given none)
    runtime = source if isinstance(source, WorkflowRuntime) else getattr(source, "runtime", None)
    if isinstance(runtime, WorkflowRuntime):
        return local_engine(_apps.engine_of_runtime(runtime))
    raise TypeError(
        f"expected a wfkit WorkflowRuntime or Connection (or a client of one), "
        f"not {type(source).__name__}"
    )


def local_engine_of(source: object, *, doing: str) -> LocalEngine:
    """The engine in this process behind ``source``; EngineError if ``source`` is a copy
    of a remote engine's instances (``doing`` says what needed a local one)."""
    from wfkit.core._errors import EngineError

    engine = engine_of(source)
    if not isinstance(engine, LocalEngine):
        raise EngineError(
            f"{doing} starts a new instance and runs it in this process, so it works on the "
            "instances of a WorkflowRuntime, not on those read from another engine; step "
            "through them with open_cursor and check edited code with check_replay"
        )
    return engine


def is_engine_source(source: object) -> bool:
    """Whether :func:`engine_of` finds an engine behind ``source``."""
    try:
        engine_of(source)
    except TypeError:
        return False
    return True


__all__ = [
    "EngineView",
    "LocalEngine",
    "attach_view",
    "engine_of",
    "is_engine_source",
    "local_engine",
    "local_engine_of",
]
