"""``wfkit.aio``'s async client inside a running event loop (as in a notebook cell),
and Dapr 1.19's smaller names: MCP, the logger module, ``RetryPolicy.obj``."""

from __future__ import annotations

import asyncio
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

import wfkit as wf
from wfkit import aio
from wfkit.logger import Logger, LoggerOptions


def run_in_own_loop(coro: Any) -> Any:
    """``asyncio.run`` on a thread of its own: the browser tests' Playwright keeps a loop
    running on the main thread for the whole test session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def approval(ctx: wf.DaprWorkflowContext, order: Any):
    yield ctx.create_timer(timedelta(days=1))
    decision = yield ctx.wait_for_external_event("approve")
    return {"order": order, "decision": decision}


def test_async_client_drives_an_instance_from_a_running_loop(wfr):
    wfr.register_workflow(approval)
    ticks: list[int] = []

    async def ticker() -> None:
        for i in range(1000):
            ticks.append(i)
            await asyncio.sleep(0.001)

    async def main() -> tuple[Any, ...]:
        client = aio.DaprWorkflowClient(runtime=wfr)
        iid = await client.schedule_new_workflow(approval, input={"id": 7}, instance_id="o-7")
        started = await client.wait_for_workflow_start(iid, timeout_in_seconds=10)
        await client.pause_workflow(iid)
        paused = (await client.get_workflow_state(iid)).runtime_status
        await client.resume_workflow(iid)
        await client.raise_workflow_event(iid, "approve", data="yes")
        tick_task = asyncio.create_task(ticker())
        done = await client.wait_for_workflow_completion(iid, timeout_in_seconds=10)
        tick_task.cancel()
        ids = [i async for i in client.iter_workflow_instance_ids(page_size=1)]
        history = await client.get_workflow_history(iid)
        await client.purge_workflow(iid)
        gone = await client.get_workflow_state(iid)
        return started, paused, done, ids, history, gone

    started, paused, done, ids, history, gone = run_in_own_loop(main())
    assert started.runtime_status is not wf.WorkflowStatus.PENDING
    assert paused is wf.WorkflowStatus.SUSPENDED
    assert done.runtime_status is wf.WorkflowStatus.COMPLETED
    assert done.serialized_output == '{"order": {"id": 7}, "decision": "yes"}'
    assert ids == ["o-7"]
    assert history[0].event_type is wf.WorkflowHistoryEventType.WORKFLOW_STARTED
    assert gone is None


def test_async_wait_does_not_block_the_loop(wfr):
    def slow(ctx, _: Any) -> str:
        import time

        time.sleep(0.3)
        return "done"

    def one_slow_step(ctx: wf.DaprWorkflowContext, _: Any):
        return (yield ctx.call_activity(slow))

    wfr.register_activity(slow)
    wfr.register_workflow(one_slow_step)

    async def main() -> int:
        client = aio.DaprWorkflowClient(runtime=wfr)
        iid = await client.schedule_new_workflow(one_slow_step)
        beats = 0

        async def heartbeat() -> None:
            nonlocal beats
            while True:
                beats += 1
                await asyncio.sleep(0.01)

        beat = asyncio.create_task(heartbeat())
        state = await client.wait_for_workflow_completion(iid, timeout_in_seconds=10)
        beat.cancel()
        assert state.serialized_output == '"done"'
        return beats

    assert run_in_own_loop(main()) >= 10  # the loop kept running while the wait lasted 0.3 s


# --------------------------------------------------------------------------- MCP
def test_mcp_client_says_it_needs_daprs_sidecar():
    client = wf.DaprMCPClient()
    assert client.get_all_tools() == []
    assert client.get_connected_servers() == []
    with pytest.raises(wf.SidecarRequiredError, match="Dapr's sidecar serves MCP servers") as err:
        client.connect("weather")
    assert "dapr.internal.mcp.weather.ListTools" in str(err.value)
    assert isinstance(err.value, wf.WfkitError)
    with pytest.raises(ValueError, match="non-empty"):
        client.connect(" ")
    with pytest.raises(ValueError, match="positive"):
        wf.DaprMCPClient(timeout_in_seconds=0)


def test_async_mcp_client_says_it_needs_daprs_sidecar():
    with pytest.raises(wf.SidecarRequiredError, match="sidecar"):
        run_in_own_loop(aio.DaprMCPClient().connect("weather"))


def test_mcp_tool_definitions_are_plain_data():
    tool = wf.MCPToolDef("get_weather", "The weather", {"type": "object"}, "weather")
    assert tool.call_tool_workflow == ""
    assert tool == wf.MCPToolDef("get_weather", "The weather", {"type": "object"}, "weather")
    assert aio.MCPToolDef is wf.MCPToolDef


# --------------------------------------------------------------------------- logger
def test_logger_options_and_logger_as_daprs():
    options = LoggerOptions()
    assert options.log_level == logging.INFO
    assert isinstance(options.log_handler, logging.StreamHandler)
    stream = io.StringIO()
    options = LoggerOptions(
        log_level=logging.DEBUG,
        log_handler=logging.StreamHandler(stream),
        log_formatter=logging.Formatter("%(name)s|%(levelname)s|%(message)s"),
    )
    logger = Logger("wfkit-test-logger", options)
    logging.getLogger("wfkit-test-logger").setLevel(logging.DEBUG)
    logger.debug("one %s", 1)
    logger.warning("two")
    assert logger.get_options() is options
    assert stream.getvalue().splitlines() == [
        "wfkit-test-logger|DEBUG|one 1",
        "wfkit-test-logger|WARNING|two",
    ]


def test_runtime_and_clients_accept_logger_options(wfr):
    options = LoggerOptions()
    wf.DaprWorkflowClient(logger_options=options)
    aio.DaprWorkflowClient(logger_options=options)
    runtime = wf.WorkflowRuntime(logger_options=options)
    runtime.shutdown()


# --------------------------------------------------------------------------- RetryPolicy.obj
def test_retry_policy_obj_is_the_policy_the_engine_applies():
    policy = wf.RetryPolicy(first_retry_interval=timedelta(seconds=2), max_number_of_attempts=3)
    assert policy.obj is policy
    assert policy.obj.first_retry_interval == timedelta(seconds=2)
