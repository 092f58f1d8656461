"""wfkit's pytest plugin (the ``pytest11`` entry point): the fixtures of
:mod:`wfkit.testing`. wfkit is imported when a fixture is first used, so that the plugin
costs nothing in a test run that does not use it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from wfkit.runtime._client import DaprWorkflowClient
    from wfkit.runtime._runtime import WorkflowRuntime


@pytest.fixture
def wfr() -> Iterator[WorkflowRuntime]:
    """A started WorkflowRuntime with a store of its own in memory and a virtual clock
    standing still at ``wfkit.testing.START`` (moved by ``advance``, ``fire_next_timer``,
    and by auto-skip while ``run_workflow`` waits); shut down after the test. Register
    the test's workflows and activities on it."""
    from wfkit.testing._runs import runtime_for_tests

    with runtime_for_tests() as runtime:
        yield runtime


@pytest.fixture
def wfkit_client(wfr: WorkflowRuntime) -> DaprWorkflowClient:
    """A DaprWorkflowClient of ``wfr``."""
    from wfkit.runtime._client import DaprWorkflowClient

    return DaprWorkflowClient(wfr)
