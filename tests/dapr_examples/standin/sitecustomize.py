"""Makes a program written for Dapr run on wfkit with nothing else changed: imports of
``dapr.ext.workflow`` (and its submodules) give wfkit's modules, ``dapr.clients`` and
``dapr.conf`` a small local fake (state store, service invocation, pub/sub, events), and
every other ``dapr`` module is absent. ``dapr run`` is stood in for by the harness; when
it passes ``DAPR_HTTP_PORT``, the runtime serves Dapr's workflow HTTP API there once it
starts.

Loaded by Python at start-up because the harness puts this folder first on PYTHONPATH.
"""

from __future__ import annotations

import importlib
import os
import sys
import types

#: Dapr's module paths under dapr.ext.workflow that wfkit has, by wfkit's name.
_ALIASES = [
    "",
    ".aio",
    ".aio.dapr_workflow_client",
    ".aio.mcp",
    ".dapr_workflow_client",
    ".dapr_workflow_context",
    ".logger",
    ".logger.logger",
    ".logger.options",
    ".mcp",
    ".propagation",
    ".retry_policy",
    ".workflow_activity_context",
    ".workflow_context",
    ".workflow_management",
    ".workflow_runtime",
    ".workflow_state",
]


def _package(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = []  # a package with nothing else in it: other dapr modules are absent
    return module


def _install() -> None:
    import wfkit_dapr_standin as fake

    sys.modules["dapr"] = _package("dapr")
    sys.modules["dapr.ext"] = _package("dapr.ext")
    for suffix in _ALIASES:
        sys.modules["dapr.ext.workflow" + suffix] = importlib.import_module("wfkit" + suffix)
    sys.modules["dapr"].ext = sys.modules["dapr.ext"]  # type: ignore[attr-defined]
    sys.modules["dapr.ext"].workflow = sys.modules["dapr.ext.workflow"]  # type: ignore[attr-defined]
    for name in ("dapr.clients", "dapr.clients.exceptions", "dapr.conf"):
        sys.modules[name] = fake
    sys.modules["dapr"].clients = fake  # type: ignore[attr-defined]
    sys.modules["dapr"].conf = fake  # type: ignore[attr-defined]
    fake.serve_http_on_start(os.environ.get("DAPR_HTTP_PORT"))


def _whole_lines() -> None:
    """One print, one whole line: activities that start at the same instant print from
    several threads, and a line cut by another thread's print would not be the line the
    README expects. (Dapr's worker receives activities one by one, so they rarely collide.)"""
    import builtins
    import threading

    lock = threading.Lock()
    original = builtins.print

    def print_whole(*args: object, **kwargs: object) -> None:
        with lock:
            original(*args, **kwargs)  # type: ignore[call-overload]

    builtins.print = print_whole


_install()
_whole_lines()
