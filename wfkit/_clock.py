"""Clocks: the only place wfkit reads the time.

``VirtualClock`` (the default) moves only when told: ``advance``, ``advance_to``,
``advance_to_next_timer``, or auto-skip (while a caller waits for a result and nothing
can progress without time moving, jump to the next due timer). ``SystemClock`` follows
the wall clock. The runtime attaches itself as the clock's driver so that moving the
clock fires timers in (fire time, creation order) and lets everything that becomes
ready at one instant run before time moves on.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._engine import Engine, PendingTimer


class Clock(Protocol):
    """What the runtime needs of a clock."""

    is_virtual: bool
    auto_skip: bool

    def now(self) -> datetime: ...

    def wall(self) -> float: ...

    def _attach(self, engine: Engine) -> None: ...

    def _set(self, when: datetime) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class _ClockBase:
    is_virtual = False
    auto_skip = False

    def __init__(self) -> None:
        self._engine: Engine | None = None

    def _attach(self, engine: Engine) -> None:
        self._engine = engine

    def wall(self) -> float:
        """Wall-clock seconds since the epoch (for wall timestamps and durations)."""
        return time.time()

    def pending_timers(self) -> list[PendingTimer]:
        """Timers not yet fired, in firing order (empty before the runtime is created)."""
        return self._engine.pending_timers() if self._engine else []


class VirtualClock(_ClockBase):
    """Virtual time, naive UTC. ``start`` defaults to the wall time (whole seconds)."""

    is_virtual = True

    def __init__(self, start: datetime | None = None, *, auto_skip: bool = True):
        super().__init__()
        #: Whether the start time was given (a reopened store resumes a default clock).
        self._explicit_start = start is not None
        start = start if start is not None else _utcnow().replace(microsecond=0)
        if start.utcoffset() is not None:
            start = start.astimezone(UTC).replace(tzinfo=None)
        self._now = start
        self.auto_skip = auto_skip

    def now(self) -> datetime:
        return self._now

    def _set(self, when: datetime) -> None:
        if when > self._now:
            self._now = when

    def _resume(self, recorded: datetime) -> None:
        """Continue from the latest virtual time a store recorded: exactly there when no
        start was given, else never before it (time does not run back past a history)."""
        if self._explicit_start:
            self._set(recorded)
        else:
            self._now = recorded
            self._explicit_start = True

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by ``delta``, firing every timer due on the way, in order."""
        if not isinstance(delta, timedelta) or delta < timedelta(0):
            raise ValueError(f"advance takes a non-negative timedelta, not {delta!r}")
        return self.advance_to(self._now + delta)

    def advance_to(self, when: datetime) -> datetime:
        """Move time forward to ``when`` (naive UTC or aware), firing due timers in order."""
        if not isinstance(when, datetime):
            raise TypeError(f"advance_to takes a datetime, not {type(when).__name__}")
        if when.utcoffset() is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        if when < self._now:
            raise ValueError(
                f"virtual time only moves forward: it is {self._now.isoformat()}, "
                f"{when.isoformat()} is in the past"
            )
        if self._engine is None:
            self._now = when
        else:
            self._engine.advance_clock(when)
        return self._now

    def advance_to_next_timer(self) -> datetime | None:
        """Fire the next pending timer (and all due at the same instant); None if there is none."""
        timers = self.pending_timers()
        if not timers:
            return None
        return self.advance_to(max(timers[0].fire_at, self._now))

    def __repr__(self) -> str:
        return f"VirtualClock({self._now.isoformat()}, auto_skip={self.auto_skip})"


class SystemClock(_ClockBase):
    """Wall-clock time: timers fire when the real time comes."""

    def now(self) -> datetime:
        return _utcnow()

    def _set(self, when: datetime) -> None:  # time cannot be moved
        pass

    def __repr__(self) -> str:
        return "SystemClock()"


def make_clock(spec: Any) -> Clock:
    if spec is None or spec == "virtual":
        return VirtualClock()
    if spec == "system":
        return SystemClock()
    if isinstance(spec, _ClockBase):
        return spec  # type: ignore[return-value]
    raise ValueError(
        f"clock must be 'virtual', 'system', a VirtualClock or a SystemClock, not {spec!r}"
    )
