"""Scripts of deliveries, played the same way on every target.

A target is the driver (:class:`dapr_driver.Sidecar`, with either engine) or wfkit's
runtime (:class:`wfkit_side.RuntimeTarget`); both offer the same verbs. A script
schedules the root instance, applies the deliveries meant to happen before the start,
then each step once everything that can run without time moving has run, and finally
fires timers one instant at a time until the root instance ends (wfkit's auto-skip).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dapr_driver import Report

ROOT = "root"


@dataclass(frozen=True)
class Raise:
    name: str
    data: Any = None
    target: str = ROOT


@dataclass(frozen=True)
class Advance:
    delta: timedelta


@dataclass(frozen=True)
class Suspend:
    target: str = ROOT


@dataclass(frozen=True)
class Resume:
    target: str = ROOT


@dataclass(frozen=True)
class Terminate:
    output: Any = None
    target: str = ROOT


@dataclass(frozen=True)
class Snapshot:
    """Record every instance's report at this point of the script."""


@dataclass(frozen=True)
class Scenario:
    id: str
    workflow: Callable[..., Any]
    input: Any = None
    before_start: tuple[Any, ...] = ()
    steps: tuple[Any, ...] = ()


def apply(target: Any, step: Any) -> None:
    if isinstance(step, Raise):
        target.raise_event(step.target, step.name, step.data)
    elif isinstance(step, Advance):
        target.advance(step.delta)
    elif isinstance(step, Suspend):
        target.suspend(step.target)
    elif isinstance(step, Resume):
        target.resume(step.target)
    elif isinstance(step, Terminate):
        target.terminate(step.target, step.output)
    else:
        raise AssertionError(f"unknown step {step!r}")


@dataclass
class Played:
    reports: dict[str, Report]
    snapshots: list[dict[str, Report]]


def play(target: Any, scenario: Scenario) -> Played:
    """Run ``scenario`` on ``target`` and report every instance at the end."""
    target.schedule(scenario.workflow, scenario.input, instance_id=ROOT)
    for step in scenario.before_start:
        apply(target, step)
    if hasattr(target, "start"):
        target.start()
    target.settle()
    snapshots = []
    for step in scenario.steps:
        if isinstance(step, Snapshot):
            snapshots.append(target.reports())
        else:
            apply(target, step)
        target.settle()
    target.run_to_end(ROOT)
    return Played(target.reports(), snapshots)


def summaries(reports: dict[str, Report]) -> dict[str, dict[str, Any]]:
    return {iid: r.summary() for iid, r in sorted(reports.items())}
