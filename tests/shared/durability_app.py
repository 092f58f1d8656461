"""A file-backed runtime to kill: the program ``test_durability`` and the soak run.

``python durability_app.py DIR start`` schedules a fixed set of instances (chains, a
fan-out, timers, buffered events, child workflows, a scheduled start) in ``DIR/wf.duckdb``
and waits for them; ``... DIR resume`` reopens the file, schedules whichever of them the
first process had not scheduled yet, raises the events it had not raised, and waits until
every instance has finished. Every activity appends ``instance task-id pid`` to
``DIR/activities.log`` when it completes; the client logs what it did (``scheduled ID``,
``raised ID NAME``) to ``DIR/client.log`` once the call has returned.

:func:`check` compares the file with the logs after the fact.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import wfkit as wf

CHAIN = 12
FAN = 24
CHILDREN = 3
TIMER_STEPS = (timedelta(hours=1), timedelta(days=1))
DELAY = timedelta(hours=2)
START = datetime(2024, 1, 1)

#: instance id -> (workflow name, input, expected output)
INSTANCES: dict[str, tuple[str, Any, Any]] = {
    "chain-0": ("chain", CHAIN, CHAIN),
    "chain-1": ("chain", CHAIN, CHAIN),
    "fan-0": ("fan_out", FAN, sum(2 * i for i in range(FAN))),
    "timers-0": ("timers", None, 2),
    "events-0": ("events", None, ["one", "two"]),
    "parent-0": ("parent", CHILDREN, CHILDREN * 4),
}
#: instance id -> names of the events the client raises (early: buffered by the workflow)
EVENTS = {"events-0": ["e1", "e2"]}
DELAYED = "delayed-0"  # scheduled to start DELAY after the virtual time it was scheduled at


def build(directory: Path) -> wf.WorkflowRuntime:
    # Every process starts its clock at START: a reopened store must move it on to where
    # the history left it (or new episodes would go back in time).
    wfr = wf.WorkflowRuntime(
        store=directory / "wf.duckdb", clock=wf.VirtualClock(START, flow=False)
    )
    log = os.open(directory / "activities.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def done(ctx: wf.WorkflowActivityContext) -> None:
        os.write(log, f"{ctx.workflow_id} {ctx.task_id} {os.getpid()}\n".encode())

    @wfr.activity
    def step(ctx: wf.WorkflowActivityContext, x: int) -> int:
        time.sleep(0.002)
        done(ctx)
        return x + 1

    @wfr.activity
    def double(ctx: wf.WorkflowActivityContext, x: int) -> int:
        time.sleep(0.001)
        done(ctx)
        return 2 * x

    @wfr.workflow
    def chain(ctx: wf.DaprWorkflowContext, n: int):  # type: ignore[no-untyped-def]
        x = 0
        for _ in range(n):
            x = yield ctx.call_activity(step, input=x)
        return x

    @wfr.workflow
    def fan_out(ctx: wf.DaprWorkflowContext, n: int):  # type: ignore[no-untyped-def]
        results = yield wf.when_all([ctx.call_activity(double, input=i) for i in range(n)])
        return sum(results)

    @wfr.workflow
    def timers(ctx: wf.DaprWorkflowContext, _: None):  # type: ignore[no-untyped-def]
        x = 0
        for delay in TIMER_STEPS:
            yield ctx.create_timer(delay)
            x = yield ctx.call_activity(step, input=x)
        return x

    @wfr.workflow
    def events(ctx: wf.DaprWorkflowContext, _: None):  # type: ignore[no-untyped-def]
        x = 0
        for _ in range(4):  # the events arrive meanwhile, and wait in the history
            x = yield ctx.call_activity(step, input=x)
        first = yield ctx.wait_for_external_event("e1")
        second = yield ctx.wait_for_external_event("e2")
        return [first, second]

    @wfr.workflow
    def parent(ctx: wf.DaprWorkflowContext, n: int):  # type: ignore[no-untyped-def]
        results = yield wf.when_all([ctx.call_child_workflow(chain, input=4) for _ in range(n)])
        return sum(results)

    return wfr


def drive(directory: Path, phase: str) -> None:
    wfr = build(directory)
    client_log = open(directory / "client.log", "a", buffering=1)  # noqa: SIM115
    wfr.start()
    client = wf.DaprWorkflowClient(wfr)

    def schedule(iid: str, name: str, payload: Any, **options: Any) -> None:
        if client.get_workflow_state(iid) is None:
            client.schedule_new_workflow(name, input=payload, instance_id=iid, **options)
            client_log.write(f"scheduled {iid}\n")

    # first the timers (virtual time moves on), then the rest, later in virtual time
    schedule("timers-0", *INSTANCES["timers-0"][:2])
    schedule(DELAYED, "chain", 2, start_at=wfr.clock.now() + DELAY)
    client.wait_for_workflow_completion("timers-0", timeout_in_seconds=120)
    for iid, (name, payload, _) in INSTANCES.items():
        schedule(iid, name, payload)
    data = {"e1": "one", "e2": "two"}
    for iid, names in EVENTS.items():
        seen = {
            e.name for e in client.get_workflow_history(iid) if e.event_type.value == "eventRaised"
        }
        for event in names:
            if event not in seen:
                client.raise_workflow_event(iid, event, data=data[event])
                client_log.write(f"raised {iid} {event}\n")
    for iid in [*INSTANCES, DELAYED]:
        client.wait_for_workflow_completion(iid, timeout_in_seconds=120)
    wfr.shutdown()
    client_log.write(f"{phase} done\n")


# --------------------------------------------------------------------------- checking
@dataclass
class Report:
    """What one kill and restart left, against what must hold."""

    instances_lost: list[str] = field(default_factory=list)
    not_completed: list[str] = field(default_factory=list)
    wrong_output: list[str] = field(default_factory=list)
    #: activity calls whose completion was in the file at the kill and that ran again
    duplicate_completed: list[str] = field(default_factory=list)
    events_lost: list[str] = field(default_factory=list)
    timer_problems: list[str] = field(default_factory=list)
    clock_problems: list[str] = field(default_factory=list)
    #: activity calls that ran again (in flight at the kill: allowed, at least once)
    reruns: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.instances_lost
            or self.not_completed
            or self.wrong_output
            or self.duplicate_completed
            or self.events_lost
            or self.timer_problems
            or self.clock_problems
        )


def completed_calls(path: Path) -> set[tuple[str, int]]:
    """(instance, task id) of every activity whose completion the file records."""
    if not path.exists():
        return set()
    store = wf.DuckDBStore(path, read_only=True)
    try:
        rows = store.sql(
            "SELECT instance_id, task_id FROM history WHERE kind = 'TaskCompleted'"
        ).itertuples(index=False)
        return {(r.instance_id, int(r.task_id)) for r in rows}
    finally:
        store.close()


def check(directory: Path, completed_at_kill: set[tuple[str, int]], resumed_pid: int) -> Report:
    from wfkit.core._history import (
        EventRaised,
        ExecutionStarted,
        TimerCreated,
        TimerFired,
        WorkflowStarted,
    )

    report = Report()
    log = (directory / "client.log").read_text().split("\n")
    scheduled = {line.split()[1] for line in log if line.startswith("scheduled ")}
    raised = {tuple(line.split()[1:3]) for line in log if line.startswith("raised ")}
    store = wf.DuckDBStore(directory / "wf.duckdb", read_only=True)
    try:
        records = {r.instance_id: r for r in store.records()}
        expected = dict(INSTANCES)
        expected[DELAYED] = ("chain", 2, 2)
        for iid, (_, _, result) in expected.items():
            record = records.get(iid)
            if record is None:
                report.instances_lost.append(iid)
                continue
            if record.status is not wf.WorkflowStatus.COMPLETED:
                report.not_completed.append(f"{iid} {record.status.name} {record.failure}")
            elif json.loads(record.output or "null") != result:
                report.wrong_output.append(f"{iid}: {record.output}")
        report.instances_lost.extend(sorted(scheduled - set(records)))
        for iid, record in records.items():
            history = [s.event for s in store.history(iid)]
            stamps = [e.timestamp for e in history if isinstance(e, WorkflowStarted)]
            if stamps != sorted(stamps):
                report.clock_problems.append(f"{iid}: episode times go back: {stamps}")
            created = {e.task_id: e for e in history if isinstance(e, TimerCreated)}
            for fired in (e for e in history if isinstance(e, TimerFired)):
                timer = created.get(fired.timer_id)
                if timer is None or fired.fire_at != timer.fire_at:
                    report.timer_problems.append(f"{iid}: timer {fired.timer_id} moved")
                elif fired.timestamp != timer.fire_at:
                    report.timer_problems.append(
                        f"{iid}: timer {fired.timer_id} due {timer.fire_at} fired at "
                        f"{fired.timestamp}"
                    )
            for name in EVENTS.get(iid, []):
                if (iid, name) in raised and not any(
                    isinstance(e, EventRaised) and e.event_name == name for e in history
                ):
                    report.events_lost.append(f"{iid} {name}")
            if iid == DELAYED:
                started = next((e for e in history if isinstance(e, ExecutionStarted)), None)
                due = record.created_at + DELAY
                if record.start_at != due or (started is not None and started.timestamp != due):
                    report.timer_problems.append(
                        f"{iid}: scheduled for {due}, started at "
                        f"{started.timestamp if started else None}"
                    )
    finally:
        store.close()
    runs: dict[tuple[str, int], list[int]] = {}
    for line in (directory / "activities.log").read_text().split("\n"):
        if line:
            iid, task, pid = line.split()
            runs.setdefault((iid, int(task)), []).append(int(pid))
    for call, pids in runs.items():
        report.reruns += len(pids) - 1
        if call in completed_at_kill and resumed_pid in pids:
            report.duplicate_completed.append(f"{call[0]} task {call[1]}")
    return report


if __name__ == "__main__":
    drive(Path(sys.argv[1]), sys.argv[2])
