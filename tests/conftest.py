"""Shared fixtures: a started runtime on a virtual clock, and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

import wfkit as wf

START = datetime(2025, 1, 1)


@pytest.fixture
def wfr() -> Iterator[wf.WorkflowRuntime]:
    runtime = wf.WorkflowRuntime(clock=wf.VirtualClock(START, flow=False))
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.shutdown()


@pytest.fixture
def client(wfr: wf.WorkflowRuntime) -> wf.DaprWorkflowClient:
    return wf.DaprWorkflowClient(wfr)
