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

import os
import threading
import weakref
from typing import TYPE_CHECKING

from ._store import DuckDBStore, HistoryStore

if TYPE_CHECKING:
    from ._runtime import WorkflowRuntime

#: The app id of a runtime created without one, outside ``dapr run`` (which sets APP_ID).
DEFAULT_APP_ID = "wfkit"

_lock = threading.Lock()
_stores: dict[str, HistoryStore] = {}
_serving: dict[str, weakref.ref[WorkflowRuntime]] = {}
_owners: dict[int, weakref.ref[WorkflowRuntime]] = {}  # id(store) -> the runtime running it


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


def serve(runtime: WorkflowRuntime) -> None:
    """Make ``runtime`` the one serving its app, and the one running its store."""
    with _lock:
        _serving[runtime.app_id] = weakref.ref(runtime)
        _owners[id(runtime.store)] = weakref.ref(runtime)
