"""Timers and time: the queue of pending timers, firing those due, auto-skip
(a virtual clock jumps to the next timer while a caller waits and nothing else
can progress), moving the clock on request, and waiting for the engine to be quiet.

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from wfkit.core._clock import PendingTimer
from wfkit.core._history import (
    TimerFired,
)
from wfkit.runtime._instances import (
    START_TIMER,
    Live,
    add_timer_of,
    pop_timer_of,
)

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


#: A pending timer in the engine's queue: (instance id, generation, task id)
QueuedTimer = tuple[str, int, int]


class TimerQueue:
    """Pending timers, first due first, in the order set among those due at the same
    time. One heap entry per distinct time, not per timer: a million instances waiting on
    the same moment (what a fast-forward meets) cost a list append each, where a heap of a
    million tuples pays some twenty cache-missing comparisons a pop."""

    __slots__ = ("_taken", "_timers", "_times")

    def __init__(self) -> None:
        self._times: list[datetime] = []  # heap of the distinct times
        self._timers: dict[datetime, list[QueuedTimer | None]] = {}
        self._taken: dict[datetime, int] = {}  # timers taken from a list not yet used up

    def __bool__(self) -> bool:
        return bool(self._times)

    def push(self, fire_at: datetime, timer: QueuedTimer) -> None:
        timers = self._timers.get(fire_at)
        if timers is None:
            self._timers[fire_at] = [timer]
            heapq.heappush(self._times, fire_at)
        else:
            timers.append(timer)

    def first_time(self) -> datetime | None:
        return self._times[0] if self._times else None

    def any_due(self, now: datetime) -> bool:
        return bool(self._times) and self._times[0] <= now

    def first(self) -> QueuedTimer:
        """The timer due first (the queue is not empty)."""
        fire_at = self._times[0]
        return self._timers[fire_at][self._taken.get(fire_at, 0)]  # type: ignore[return-value]

    def pop(self) -> QueuedTimer:
        """Take the timer due first (the queue is not empty)."""
        fire_at = self._times[0]
        timers = self._timers[fire_at]
        taken = self._taken.get(fire_at, 0)
        timer = timers[taken]
        timers[taken] = None  # what was taken is not kept alive by the list
        taken += 1
        if taken == len(timers):
            heapq.heappop(self._times)
            del self._timers[fire_at]
            self._taken.pop(fire_at, None)
        else:
            self._taken[fire_at] = taken
        return timer  # type: ignore[return-value]


def add_timer(
    self: Engine, live: Live, task_id: int, fire_at: datetime, origin: str, name: str | None
) -> None:
    instance_id = live.record.instance_id
    add_timer_of(live, task_id, (fire_at, origin, name))
    self._timers.push(fire_at, (instance_id, live.generation, task_id))


def live_timer(self: Engine, timer: QueuedTimer) -> Live | None:
    instance_id, generation, task_id = timer
    live = self._live.get(instance_id)
    if live is None or live.generation != generation or task_id not in live.timers:
        return None
    return live


def next_timer(self: Engine) -> datetime | None:
    timers = self._timers
    while timers and self._live_timer(timers.first()) is None:
        timers.pop()
    return timers.first_time()


#: Instances whose due timers one call fires at most. A fast-forward over many waiting
#: instances then runs in turns of this size, each with its own commit and each freeing
#: what it replayed, rather than in one turn that holds every executor at once.
FIRE_BATCH = 10_000


def fire_due_timers(self: Engine, *, jumped: bool = False) -> bool:
    """Deliver due timers, for at most ``FIRE_BATCH`` instances; True if any fired. An
    instance gets all of its due timers in the same call (one episode, as when all are
    fired at once). What an auto-skip jumped to stays a jump until all of it has fired."""
    jumped = jumped or self.jumped_timers
    now = self.clock.now()
    timers = self._timers
    fired: dict[str, Live] = {}
    while len(fired) < FIRE_BATCH and timers.any_due(now):
        timer = timers.pop()
        live = self._live_timer(timer)
        if live is not None:
            fired[timer[0]] = live
            self._fire_timer(live, timer[2], now, jumped=jumped)
    for live in fired.values():  # due timers of theirs that the batch left in the queue
        if live.timers:
            for task_id in due_timers_of(live, now):
                self._fire_timer(live, task_id, now, jumped=jumped)
    self.jumped_timers = jumped and timers.any_due(now)
    if fired and self._watchers:  # a start that waits for a resume runs no turn
        self._changed.notify_all()
    return bool(fired)


def due_timers_of(live: Live, now: datetime) -> list[int]:
    """The task ids of ``live``'s timers due at ``now``, in the order they fire."""
    timers = live.timers
    due = [task_id for task_id, timer in timers.items() if timer[0] <= now]
    return sorted(due, key=lambda task_id: timers[task_id][0])


def fire_timer(self: Engine, live: Live, task_id: int, now: datetime, *, jumped: bool) -> None:
    fire_at = pop_timer_of(live, task_id)[0]
    if task_id == START_TIMER:
        if not live.paused:
            self._ready[live.record.instance_id] = None
    else:
        if jumped:
            self._note_race(live, fire_at)
        self._deliver(live, TimerFired(timestamp=now, timer_id=task_id, fire_at=fire_at))


def auto_skip(self: Engine) -> bool:
    if not (self.clock.is_virtual and self.clock.auto_skip) or self._inflight:
        return False
    if self._active_turn is not None:  # what it decides may come first
        return False
    if not any(self._awaited[i] and i in self._live for i in list(self._awaited)):
        return False
    when = self._next_timer()
    if when is None:
        return False
    self._move_clock(when)
    return self._fire_due_timers(jumped=True)


def note_race(self: Engine, live: Live, fire_at: datetime) -> None:
    """Auto-skip fired a timer while the instance also waited for an event: the timer
    wins a race that, in real time, the event might have won."""
    orchestration = live.orchestration
    events = orchestration.waiting_for_events if orchestration is not None else []
    if not events:
        return
    names = ", ".join(repr(e) for e in events)
    self._races.append(
        f"auto-skip jumped virtual time to {fire_at.isoformat()} and fired a timer "
        f"of workflow instance {live.record.instance_id!r} while it was waiting for event "
        f"{names}: the timer won the race. If someone is about to raise that event, wait "
        "without jumping: `with wfr.clock.no_auto_skip(): client.wait_for_...(...)`, or "
        "turn jumping off for the runtime: `wfr.clock.auto_skip = False`."
    )
    self._race_count += 1


def pending_timers(self: Engine) -> list[PendingTimer]:
    with self._lock:
        timers = [
            PendingTimer(fire_at, instance_id, task_id, origin, name)
            for instance_id, live in self._live.items()
            for task_id, (fire_at, origin, name) in live.timers.items()
        ]
    return sorted(timers, key=lambda t: (t.fire_at, t.instance_id, t.task_id))


def advance_clock(self: Engine, when: datetime) -> None:
    """Move virtual time to ``when``, stopping at each timer on the way until quiet."""
    if self._in_turn():
        raise RuntimeError("the clock cannot be advanced from inside a workflow")
    with self._lock:
        while True:
            self._wait_quiet()
            step = self._next_timer()
            if step is None or step > when:
                break
            self._move_clock(step)
            if not self.running:
                self._fire_due_timers()
                continue
            self._wake.notify()
            self._watch(functools.partial(self._moved_past, step))
        self._move_clock(when)
        self._wait_quiet()
        self._commit()  # the store resumes the clock from here after a restart


def moved_past(self: Engine, step: datetime) -> bool:
    return self._next_timer() != step or not self.running


def watch(self: Engine, predicate: Callable[[], bool]) -> None:
    """Wait (engine lock held) until ``predicate()``; woken after every turn."""
    self._watchers += 1
    try:
        self._changed.wait_for(predicate)
    finally:
        self._watchers -= 1


def wait_quiet(self: Engine) -> None:
    if self.running:
        self._wake.notify()
        self._watch(
            lambda: (
                not self.running
                or (not self._ready and not self._inflight and self._active_turn is None)
            )
        )


def move_clock(self: Engine, when: datetime) -> None:
    """Set the clock to ``when`` (never back), through the driver side of core's ``Clock``
    protocol (private to the clock's users: only the engine moves time)."""
    self.clock.set_by_driver(when)
