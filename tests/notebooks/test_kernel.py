"""wfkit in a real Jupyter kernel: synchronous client calls inside cells while the
kernel's event loop runs, and instances that keep running after their cell returned.

The notebook is built in memory and executed by nbclient in an ipykernel started from
this interpreter (a kernelspec written to a temporary JUPYTER_PATH), so the kernel sees
the same wfkit as the tests.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

import wfkit  # noqa: E402

from .conftest import KERNEL_NAME  # noqa: E402

CELLS = [
    # 0: the kernel runs this interpreter and this wfkit.
    """
    import sys

    import wfkit

    print(sys.executable, wfkit.__file__)
    """,
    # 1: create a runtime, register, start, schedule; the cell returns with the
    # instance waiting for an event.
    """
    import asyncio
    import json
    import time

    import wfkit as wf

    wfr = wf.WorkflowRuntime()
    client = wf.DaprWorkflowClient()

    @wfr.workflow(name="approval")
    def approval(ctx: wf.DaprWorkflowContext, order: str):
        decision = yield ctx.wait_for_external_event("approved")
        return (yield ctx.call_activity(ship, input={"order": order, "by": decision["by"]}))

    @wfr.activity
    def ship(ctx: wf.WorkflowActivityContext, request: dict) -> str:
        return f"shipped {request['order']}, approved by {request['by']}"

    wfr.start()
    approval_id = client.schedule_new_workflow(approval, input="A-1", instance_id="approval-1")
    state = client.wait_for_workflow_start(approval_id, timeout_in_seconds=10)
    assert state.runtime_status == wf.WorkflowStatus.RUNNING, state
    print("approval", state.runtime_status.name)
    """,
    # 2: a later cell raises the event and waits synchronously, inside the running loop.
    """
    loop = asyncio.get_running_loop()
    assert loop.is_running()
    client.raise_workflow_event(approval_id, "approved", data={"by": "ana"})
    state = client.wait_for_workflow_completion(approval_id, timeout_in_seconds=10)
    assert state.runtime_status == wf.WorkflowStatus.COMPLETED, state.failure_details
    assert json.loads(state.serialized_output) == "shipped A-1, approved by ana"
    print("approval", state.runtime_status.name, "in running loop", loop.is_running())
    """,
    # 3: start an instance whose activities take a while (one of them async) and return
    # while it runs.
    """
    @wfr.activity
    def slow_pack(ctx: wf.WorkflowActivityContext, n: int) -> int:
        time.sleep(0.3)
        return n * 2

    @wfr.activity
    async def label(ctx: wf.WorkflowActivityContext, n: int) -> str:
        await asyncio.sleep(0.05)
        return f"box-{n}"

    @wfr.workflow
    def packing(ctx: wf.DaprWorkflowContext, n: int):
        doubled = yield ctx.call_activity(slow_pack, input=n)
        return (yield ctx.call_activity(label, input=doubled))

    packing_id = client.schedule_new_workflow(packing, input=21)
    status = client.get_workflow_state(packing_id).runtime_status
    assert not status.is_terminal, status
    print("packing", status.name)
    """,
    # 4: without waiting through the client, the instance finished in the background.
    """
    deadline = time.monotonic() + 10
    time.sleep(1)
    while client.get_workflow_state(packing_id).runtime_status != wf.WorkflowStatus.COMPLETED:
        assert time.monotonic() < deadline, client.get_workflow_state(packing_id)
        time.sleep(0.1)
    state = client.get_workflow_state(packing_id)
    assert json.loads(state.serialized_output) == "box-42"
    print("packing", state.runtime_status.name, json.loads(state.serialized_output))
    """,
    """
    wfr.shutdown()
    print("shutdown", wfr.is_running)
    """,
]

EXPECTED_STDOUT = [
    f"{sys.executable} {wfkit.__file__}",
    "approval RUNNING",
    "approval COMPLETED in running loop True",
    None,  # PENDING or RUNNING, checked below
    "packing COMPLETED box-42",
    "shutdown False",
]


def build_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python (wfkit tests)",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(src).strip()) for src in CELLS]
    return nb


def stdout_of(cell: nbformat.NotebookNode) -> str:
    return "".join(
        out.get("text", "")
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stdout"
    ).strip()


def test_workflows_in_a_real_kernel(kernel_name: str, tmp_path: Path) -> None:
    nb = build_notebook()
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=60,
        startup_timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the traceback, if a cell fails

    for cell in nb.cells:
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert not errors, errors
    stdout = [stdout_of(cell) for cell in nb.cells]
    for got, expected in zip(stdout, EXPECTED_STDOUT, strict=True):
        if expected is not None:
            assert got == expected
    assert stdout[3] in {"packing PENDING", "packing RUNNING"}
