"""The kernel's stop button during ``wf.widgets.run_many``: the cell stops with
KeyboardInterrupt, the progress bar says it was interrupted, and the store holds every
instance scheduled, whole; they all finish afterwards in the same kernel."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.notebook

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

START = """
import time
from datetime import timedelta
from pathlib import Path

import wfkit as wf

LOG = Path({log!r})
wfr = wf.WorkflowRuntime(store={store!r})

@wfr.activity
def work(ctx, x):
    time.sleep(0.02)
    with LOG.open("a") as log:
        log.write(f"{{x}}\\n")
    return 2 * x

@wfr.workflow
def double(ctx, x):
    yield ctx.create_timer(timedelta(hours=1))
    return (yield ctx.call_activity(work, input=x))

wfr.start()
states = wf.widgets.run_many(wfr, [(double, x) for x in range(400)])
"""

CHECK = """
import json
import warnings

import ipywidgets

client = wf.DaprWorkflowClient(wfr)
ids = list(wfr.instances()["instance_id"])
with warnings.catch_warnings():  # the registry of live widgets is deprecated, not gone
    warnings.simplefilter("ignore", DeprecationWarning)
    live = list(ipywidgets.Widget.widgets.values())
bar = [w for w in live if type(w).__name__ == "ProgressBar"][-1]
finished = [client.wait_for_workflow_completion(i, timeout_in_seconds=60) for i in ids]
print(len(ids), bar.bar.bar_style, "interrupted" in bar.label.value,
      all(json.loads(s.serialized_output) == 2 * json.loads(s.serialized_input)
          for s in finished))
"""


def execute(client: Any, code: str, timeout: float = 120) -> tuple[dict[str, Any], str]:
    """Run ``code``; its reply and what it printed."""
    msg_id = client.execute(textwrap.dedent(code))
    printed = []
    deadline = time.monotonic() + timeout
    while True:
        msg = client.get_iopub_msg(timeout=max(1.0, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            printed.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return reply_to(client, msg_id, 10), "".join(printed)


def reply_to(client: Any, msg_id: str, timeout: float) -> dict[str, Any]:
    """The shell reply to ``msg_id`` (skipping others, such as kernel_info replies)."""
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return dict(reply["content"])


def test_stop_button_during_run_many(kernel_name: str, tmp_path: Path) -> None:
    manager = jupyter_client.KernelManager(kernel_name=kernel_name)
    manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        log, store = tmp_path / "ran.log", tmp_path / "runs.duckdb"
        started = client.execute(START.format(log=str(log), store=str(store)))
        deadline = time.monotonic() + 60
        while not log.exists() or log.read_text().count("\n") < 20:
            assert time.monotonic() < deadline, "no activity ran"
            time.sleep(0.02)
        manager.interrupt_kernel()  # what the stop button does
        reply = reply_to(client, started, 60)
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
        assert log.read_text().count("\n") < 400, "the run ended before the interrupt"
        for _ in range(20):  # after an error the kernel aborts what arrives for a moment
            reply, printed = execute(client, CHECK)
            if reply["status"] != "aborted":
                break
            time.sleep(0.5)
        assert reply["status"] == "ok", reply
        assert printed.split() == ["400", "warning", "True", "True"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
