"""Live updates: one engine subscription and one refresh thread per runtime.

The engine calls :meth:`LiveHub._on_commit` after every commit, with its lock held: each
listener only notes whether the batch concerns it (and, through an :class:`EventTap`,
keeps the batch's events of the instances it shows, so that refreshing reads no history
from the store). A daemon thread wakes a few times a second and refreshes the listeners
that are due, so a widget sends at most a few updates per second however fast the
instance runs, and keeps updating after the cell that started the run has returned.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from wfkit.runtime._seam import EngineView
from wfkit.runtime._seam import engine_of as engine_of
from wfkit.store import Batch, StoredEvent

if TYPE_CHECKING:
    from wfkit.interop._mirror import FollowState

log = logging.getLogger("wfkit.widgets")

#: Seconds between two refreshes of one widget.
REFRESH_SECONDS = 0.25


@runtime_checkable
class PolledEngine(EngineView, Protocol):
    """An engine whose instances are read by polling (a remote one): a view asks it to
    follow the instance it shows, and shows how that goes."""

    def follow(self, instance_id: str, interval: float) -> Callable[[], None]:
        """Poll ``instance_id`` every ``interval`` seconds; returns the function that stops."""
        ...

    def follow_state(self, instance_id: str) -> FollowState | None: ...


@runtime_checkable
class WorkflowControl(Protocol):
    """What the events panel's buttons call (``DaprWorkflowClient``'s method names)."""

    def raise_workflow_event(
        self, instance_id: str, event_name: str, *, data: Any = None
    ) -> None: ...

    def pause_workflow(self, instance_id: str) -> None: ...

    def resume_workflow(self, instance_id: str) -> None: ...

    def terminate_workflow(self, instance_id: str) -> None: ...


class Listener(Protocol):
    def note(self, batch: Batch) -> None:
        """A commit happened (engine lock held): mark dirty if it matters, nothing more."""
        ...

    def due(self) -> bool:
        """True if a refresh would change something (called on the refresh thread)."""
        ...

    def refresh(self) -> None: ...


class LiveHub:
    """The listeners of one engine and the thread that refreshes them."""

    def __init__(self, engine: EngineView, interval: float = REFRESH_SECONDS):
        self.engine = engine
        self.interval = interval
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = engine.subscribe(self._on_commit)
        #: Seconds spent in listeners (commit notes; refreshes, wall and CPU), refreshes done.
        self.note_seconds = 0.0
        self.refresh_seconds = 0.0
        self.refresh_cpu_seconds = 0.0
        self.refreshes = 0
        self.errors: list[str] = []

    def add(self, listener: Listener) -> None:
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wfkit-widgets", daemon=True)
                self._thread.start()

    def remove(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def poke(self) -> None:
        """Refresh now rather than at the next tick (after a user action)."""
        self._wake.set()

    def _on_commit(self, batch: Batch) -> None:
        started = time.perf_counter()
        for listener in self._listeners:
            try:
                listener.note(batch)
            except Exception:  # a view must never break the engine
                log.exception("widget note failed")
        self.note_seconds += time.perf_counter() - started

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                listeners = list(self._listeners)
            if not listeners:
                return
            for listener in listeners:
                self.refresh(listener)

    def refresh(self, listener: Listener, *, force: bool = False) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            if force or listener.due():
                listener.refresh()
                self.refreshes += 1
        except Exception as exc:
            log.exception("widget refresh failed")
            self.errors.append(f"{type(exc).__name__}: {exc}")
            del self.errors[:-20]
        finally:
            self.refresh_seconds += time.perf_counter() - started
            self.refresh_cpu_seconds += time.thread_time() - cpu


class EventTap:
    """The history events of some instances, taken from the engine's batches as they are
    committed, for a view to index without reading the store.

    :meth:`note` runs on the engine's thread with its lock held, once per batch: it only
    keeps the batch's events of the watched instances (the batch's own objects, nothing
    is copied or decoded). :meth:`take` hands them over on the refresh thread.
    """

    def __init__(self) -> None:
        self._ids: frozenset[str] = frozenset()
        self._events: list[StoredEvent] = []
        self._restarted = False
        self._lock = threading.Lock()

    def watch(self, *instance_ids: str) -> None:
        """Keep the events of these instances from now on (and forget what was kept)."""
        with self._lock:
            self._ids = frozenset(instance_ids)
            self._events = []
            self._restarted = False

    def note(self, batch: Batch) -> bool:
        """Keep the events of ``batch`` that concern the watched instances; True if any
        does (an event, or the history starting over)."""
        ids = self._ids
        if not ids:
            return False
        restarted = ids & (batch.resets | batch.purges) if batch.resets or batch.purges else None
        mine = [stored for stored in batch.events if stored.instance_id in ids]
        if not mine and not restarted:
            return False
        with self._lock:
            if restarted:
                # a batch applies resets before its events: what was kept is the old history
                self._events = [e for e in self._events if e.instance_id not in restarted]
                self._restarted = True
            self._events.extend(mine)
        return True

    def take(self) -> tuple[list[StoredEvent], bool]:
        """The events kept since the last call, in commit order, and whether a watched
        history started over since (the events are then those of the new history)."""
        with self._lock:
            events, self._events = self._events, []
            restarted, self._restarted = self._restarted, False
        return events, restarted


_hubs: weakref.WeakKeyDictionary[EngineView, LiveHub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def hub_for(engine: EngineView) -> LiveHub:
    """The hub of ``engine`` (created, and subscribed, on first use)."""
    with _hubs_lock:
        hub = _hubs.get(engine)
        if hub is None:
            hub = _hubs[engine] = LiveHub(engine)
        return hub


def control_of(runtime: object) -> WorkflowControl:
    """The client the events panel acts through: a connection or a client as given, or a
    client of the runtime."""
    if isinstance(runtime, WorkflowControl):
        return runtime
    from wfkit.runtime._client import DaprWorkflowClient
    from wfkit.runtime._runtime import WorkflowRuntime

    target = getattr(runtime, "runtime", runtime)
    if not isinstance(target, WorkflowRuntime):
        raise TypeError(f"expected a wfkit WorkflowRuntime or Connection, not {target!r}")
    return DaprWorkflowClient(runtime=target)
