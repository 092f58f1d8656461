"""Shared fixtures: a started runtime on a virtual clock and a client for it; Dapr's real
engine (durabletask-go's sidecar) for the tests that compare with it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest

import wfkit as wf
from wfkit.interop.sidecar import BUILD_HINT, Sidecar, sidecar_path, start_sidecar

START = datetime(2025, 1, 1)


@pytest.fixture
def wfr() -> Iterator[wf.WorkflowRuntime]:
    runtime = wf.WorkflowRuntime(clock=wf.VirtualClock(START))
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.shutdown()


@pytest.fixture
def client(wfr: wf.WorkflowRuntime) -> wf.DaprWorkflowClient:
    return wf.DaprWorkflowClient(wfr)


# --------------------------------------------------------------------------- Dapr's real engine
def _engine_or_skip() -> None:
    """Skip (or, where CI sets WFKIT_REQUIRE_SIDECAR, fail) when the engine is not built."""
    if sidecar_path() is None:
        reason = f"Dapr's workflow engine is not built: {BUILD_HINT}"
        if os.environ.get("WFKIT_REQUIRE_SIDECAR"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def sidecar() -> Iterator[Sidecar]:
    """One engine process for the session (tests use instance ids of their own)."""
    _engine_or_skip()
    with start_sidecar() as engine:
        yield engine


@pytest.fixture
def fresh_sidecar() -> Iterator[Sidecar]:
    """An engine process of the test's own, with an empty SQLite file."""
    _engine_or_skip()
    with start_sidecar() as engine:
        yield engine
