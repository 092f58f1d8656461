"""Shared fixtures: ``wfr`` from wfkit's pytest plugin (a started runtime on a virtual
clock that stands still between jumps, so every timestamp is a function of the test
alone, with a store of its own), a client for it; Dapr's real engine (durabletask-go's
sidecar) for the tests that compare with it."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import wfkit as wf
from wfkit.interop.sidecar import BUILD_HINT, Sidecar, sidecar_path, start_sidecar
from wfkit.runtime import _apps
from wfkit.testing import plugin

# the apps and helpers the tests of every layer share (support.py, http_app.py, ...)
sys.path.insert(0, str(Path(__file__).parent / "shared"))


def pytest_configure(config: pytest.Config) -> None:
    # wfkit's own tests use the plugin a user gets (its ``wfr`` fixture). An installed
    # wfkit registers it by its entry point already (under the name "wfkit"); naming it
    # in ``pytest_plugins`` as well would then fail as a second registration.
    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, plugin.__name__)


@pytest.fixture
def client(wfr: wf.WorkflowRuntime) -> wf.DaprWorkflowClient:
    return wf.DaprWorkflowClient(wfr)


@pytest.fixture(autouse=True)
def app_of_its_own(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Runtimes created without a store (by the code under test, e.g. a loaded app) share
    their app's store, as the programs of one process share Dapr's sidecar: each test runs
    as an app of its own, whose store goes away with it."""
    app_id = f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("APP_ID", app_id)
    yield
    _apps._stores.pop(app_id, None)


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
