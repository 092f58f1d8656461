"""This process as Dapr's sidecar: each app's store, and the runtime serving each app.

On Dapr, instances live in the sidecar, not in the program: a program that creates a new
``WorkflowRuntime`` (a restart, the next part of a script, a re-run notebook cell) finds
the instances of the one before. Here the process plays the sidecar. A runtime created
without a store uses its app's store, kept for the life of the process; the newest
runtime of an app serves it. A store is run by one runtime at a time: a new runtime on
the store of an earlier one takes over (the earlier engine stops first) and makes the
earlier object a view of itself. Calls with ``app_id=`` go to the runtime serving that app.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from wfkit.core._errors import AppNotFoundError
from wfkit.store import DuckDBStore, HistoryStore

if TYPE_CHECKING:
    from wfkit.core._history import ChildWorkflowInstanceCreated
    from wfkit.runtime._engine import ActivityCall, Engine
    from wfkit.runtime._runtime import WorkflowRuntime

#: The app id of a runtime created without one, outside ``dapr run`` (which sets APP_ID).
DEFAULT_APP_ID = "wfkit"

_lock = threading.Lock()
_stores: dict[str, HistoryStore] = {}
_serving: dict[str, weakref.ref[WorkflowRuntime]] = {}
_owners: dict[int, weakref.ref[WorkflowRuntime]] = {}  # id(store) -> the runtime running it
#: The engine each runtime acts through (a runtime that was taken over, that of its successor)
_engines: weakref.WeakKeyDictionary[WorkflowRuntime, Engine] = weakref.WeakKeyDictionary()


def app_id_of(given: str | None) -> str:
    """The app id a runtime serves: the one given, else ``$APP_ID`` (as ``dapr run
    --app-id`` sets it), else ``"wfkit"``."""
    if given is None:
        return os.environ.get("APP_ID") or DEFAULT_APP_ID
    if not isinstance(given, str) or not given.strip():
        raise ValueError(f"app_id must be a non-empty string (or None), not {given!r}")
    return given


def app_store(app_id: str) -> HistoryStore:
    """The store of ``app_id`` in this process (DuckDB in memory), created on first use."""
    with _lock:
        store = _stores.get(app_id)
        if store is None:
            store = _stores[app_id] = DuckDBStore(":memory:")
        return store


def serving(app_id: str) -> WorkflowRuntime | None:
    """The runtime serving ``app_id`` in this process, if any."""
    ref = _serving.get(app_id)
    return ref() if ref is not None else None


def owner(store: HistoryStore) -> WorkflowRuntime | None:
    """The runtime that runs ``store`` now: the one a new runtime on it takes over from."""
    ref = _owners.get(id(store))
    runtime = ref() if ref is not None else None
    return runtime if runtime is not None and runtime.store is store else None


def bind(runtime: WorkflowRuntime, engine: Engine) -> None:
    """``runtime`` acts through ``engine`` from now on."""
    with _lock:
        _engines[runtime] = engine


def engine_of_runtime(runtime: WorkflowRuntime) -> Engine:
    """The engine ``runtime`` acts through (its own, or its successor's)."""
    return _engines[runtime]


def serve(runtime: WorkflowRuntime) -> None:
    """Make ``runtime`` the one serving its app, and the one running its store."""
    with _lock:
        _serving[runtime.app_id] = weakref.ref(runtime)
        _owners[id(runtime.store)] = weakref.ref(runtime)


# ---------------------------------------------------------------------------- placement
# Calls between apps travel as messages on one thread of their own, so that no engine
# ever waits on another's lock while holding its own.
_mail: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_postman: threading.Thread | None = None


def post(message: Callable[[], None]) -> None:
    """Deliver ``message()`` soon, on the placement thread."""
    global _postman
    with _lock:
        if _postman is None:
            _postman = threading.Thread(target=_deliver, name="wfkit-placement", daemon=True)
            _postman.start()
    _mail.put(message)


def _deliver() -> None:
    while True:
        message = _mail.get()
        try:
            message()
        except Exception:  # an engine that went away meanwhile; the rest still goes out
            logging.getLogger("wfkit").exception("a call between apps could not be delivered")


def engine_of(app_id: str) -> Engine | AppNotFoundError:
    """The started engine serving ``app_id``, or the error a call to it fails with."""
    runtime = serving(app_id)
    if runtime is not None and runtime.is_running:
        return engine_of_runtime(runtime)
    served = sorted(a for a in _serving if (r := serving(a)) is not None and r.is_running)
    state = "has a runtime here that is not started" if runtime else "is not served"
    return AppNotFoundError(
        f"app {app_id!r} {state} in this process (apps running here: "
        f"{', '.join(map(repr, served)) or 'none'}). Create and start its runtime in this "
        f"process: WorkflowRuntime(app_id={app_id!r}). wfkit routes calls between the apps "
        "of one process only; for apps in separate processes (as `dapr run` starts them), "
        "run them on Dapr's engine (wfkit.interop.sidecar.start_sidecar() starts it here)."
    )


def run_activity(call: ActivityCall) -> None:
    """Run an activity call on the app its ``app_id`` names; the result goes back to the
    engine that scheduled it (``call.origin``)."""
    target = engine_of(call.decision.app_id or "")
    if isinstance(target, AppNotFoundError):
        call.origin.activities_done([(call, None, target)])
    else:
        target.run_for(call)


def start_child(
    origin: Engine,
    parent_id: str,
    decision: ChildWorkflowInstanceCreated,
    propagated: str | None,
) -> None:
    """Start a child workflow on the app its ``app_id`` names, for ``origin``'s parent
    (with the history the call hands down, if any)."""
    target = engine_of(decision.app_id or "")
    if isinstance(target, AppNotFoundError):
        origin.child_failed(parent_id, decision, target)
    else:
        target.adopt_child(origin, parent_id, decision, propagated)
