"""Clocks: the only place wfkit reads the time.

``VirtualClock`` (the default) flows with wall time, as time does on Dapr, and jumps only
when asked: ``advance``, ``advance_to``, ``advance_to_next_timer``, or auto-skip (while a
caller waits for a result and nothing can progress without time moving, jump to the next
due timer). With ``flow=False`` it stands still between jumps (deterministic timestamps,
for tests and teaching). ``SystemClock`` follows the wall clock and never jumps. The
runtime attaches itself as the clock's driver so that moving the clock fires timers in
(fire time, creation order) and lets everything that becomes ready at one instant run
before time moves on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from wfkit.core._time import to_naive_utc, utc_now


@dataclass(frozen=True, slots=True)
class PendingTimer:
    """A timer that has not fired: what the clock panel shows."""

    fire_at: datetime
    instance_id: str
    task_id: int
    origin: str
    name: str | None


class ClockDriver(Protocol):
    """What a clock needs of the runtime that drives it (the engine attaches itself)."""

    def pending_timers(self) -> list[PendingTimer]: ...

    def advance_clock(self, when: datetime) -> None: ...


class Clock(Protocol):
    """What the runtime needs of a clock."""

    is_virtual: bool
    auto_skip: bool

    @property
    def flows(self) -> bool:
        """Whether time passes on its own (the engine then wakes itself for due timers)."""

    def now(self) -> datetime: ...

    def wall(self) -> float: ...

    def skips_here(self) -> bool: ...

    def attach_driver(self, engine: ClockDriver) -> None:
        """Called by the runtime that fires this clock's timers, once, as it starts."""
        ...

    def set_by_driver(self, when: datetime) -> None:
        """Called by that runtime as it fires timers: time is now ``when`` (never back)."""
        ...


def _utcnow() -> datetime:
    return utc_now()


class _ClockBase:
    is_virtual = False
    auto_skip = False
    flows = True

    def __init__(self) -> None:
        self._engine: ClockDriver | None = None
        self._local = threading.local()

    def skips_here(self) -> bool:
        """Whether a wait made now, on this thread, may fast-forward timers."""
        return self.auto_skip and not getattr(self._local, "held", 0)

    @contextlib.contextmanager
    def no_auto_skip(self) -> Iterator[None]:
        """Waits made inside this block (on this thread) never jump time: use it when
        another thread or process is about to raise the event a workflow waits for."""
        self._local.held = getattr(self._local, "held", 0) + 1
        try:
            yield
        finally:
            self._local.held -= 1

    def attach_driver(self, engine: ClockDriver) -> None:
        self._engine = engine

    def wall(self) -> float:
        """Wall-clock seconds since the epoch (for wall timestamps and durations)."""
        return time.time()

    def pending_timers(self) -> list[PendingTimer]:
        """Timers not yet fired, in firing order (empty before the runtime is created)."""
        return self._engine.pending_timers() if self._engine else []


class VirtualClock(_ClockBase):
    """Virtual time, naive UTC. ``start`` defaults to the wall time (whole seconds).

    Args:
        start: the virtual time to begin at.
        auto_skip: a wait for a result (``wait_for_workflow_completion`` or
            ``wait_for_workflow_start``) jumps to the next timer when nothing else can
            progress. Turn it off per wait with ``with clock.no_auto_skip(): ...``.
        flow: time passes with wall time between jumps (a program that sleeps in real
            time sees its timers fire, as on Dapr). ``False``: time stands still between
            jumps, so every timestamp is a function of the program alone.
    """

    is_virtual = True

    def __init__(self, start: datetime | None = None, *, auto_skip: bool = True, flow: bool = True):
        super().__init__()
        #: Whether the start time was given (a reopened store resumes a default clock).
        self._explicit_start = start is not None
        start = start if start is not None else _utcnow().replace(microsecond=0)
        start = to_naive_utc(start)
        self.auto_skip = auto_skip
        self._flow = bool(flow)
        # (virtual time, wall monotonic seconds) at the last jump: one tuple, swapped whole
        self._anchor = (start, time.monotonic())

    @property
    def flow(self) -> bool:
        """Whether time passes with wall time between jumps (settable)."""
        return self._flow

    @flow.setter
    def flow(self, value: bool) -> None:
        self._anchor = (self.now(), time.monotonic())
        self._flow = bool(value)

    @property
    def flows(self) -> bool:  # type: ignore[override]
        return self._flow

    def now(self) -> datetime:
        at, wall = self._anchor
        if not self._flow:
            return at
        return at + timedelta(seconds=time.monotonic() - wall)

    def set_by_driver(self, when: datetime) -> None:
        if when > self.now():
            self._anchor = (when, time.monotonic())

    def _resume(self, recorded: datetime) -> None:
        """Continue from the latest virtual time a store recorded: exactly there when no
        start was given, else never before it (time does not run back past a history)."""
        if self._explicit_start:
            self.set_by_driver(recorded)
        else:
            self._anchor = (recorded, time.monotonic())
            self._explicit_start = True

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by ``delta``, firing every timer due on the way, in order."""
        if not isinstance(delta, timedelta) or delta < timedelta(0):
            raise ValueError(f"advance takes a non-negative timedelta, not {delta!r}")
        return self._jump(self.now() + delta)

    def advance_to(self, when: datetime) -> datetime:
        """Move time forward to ``when`` (naive UTC or aware), firing due timers in order."""
        if not isinstance(when, datetime):
            raise TypeError(f"advance_to takes a datetime, not {type(when).__name__}")
        when = to_naive_utc(when)
        now = self.now()
        if when < now:
            raise ValueError(
                f"virtual time only moves forward: it is {now.isoformat()}, "
                f"{when.isoformat()} is in the past"
            )
        return self._jump(when)

    def _jump(self, when: datetime) -> datetime:
        if self._engine is None:
            self.set_by_driver(when)
        else:
            self._engine.advance_clock(when)
        return self.now()

    def advance_to_next_timer(self) -> datetime | None:
        """Fire the next pending timer (and all due at the same instant); None if there is none."""
        timers = self.pending_timers()
        if not timers:
            return None
        return self._jump(max(timers[0].fire_at, self.now()))

    def __repr__(self) -> str:
        return (
            f"VirtualClock({self.now().isoformat()}, auto_skip={self.auto_skip}, flow={self._flow})"
        )


class SystemClock(_ClockBase):
    """Wall-clock time: timers fire when the real time comes."""

    def now(self) -> datetime:
        return _utcnow()

    def set_by_driver(self, when: datetime) -> None:  # time cannot be moved
        pass

    def __repr__(self) -> str:
        return "SystemClock()"


def make_clock(spec: Any) -> Clock:
    if spec is None or spec == "virtual":
        return VirtualClock()
    if spec == "frozen":  # time moves only by hand
        return VirtualClock(auto_skip=False, flow=False)
    if spec == "system":
        return SystemClock()
    if isinstance(spec, _ClockBase):
        return spec  # type: ignore[return-value]
    raise ValueError(
        "clock must be 'virtual' (flows, jumps while you wait), 'frozen' (moves only by "
        f"hand), 'system', a VirtualClock or a SystemClock, not {spec!r}"
    )
