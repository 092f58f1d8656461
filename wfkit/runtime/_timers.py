"""Timers and time: the heap of pending timers, firing those due, auto-skip
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


def add_timer(
    self: Engine, live: Live, task_id: int, fire_at: datetime, origin: str, name: str | None
) -> None:
    instance_id = live.record.instance_id
    add_timer_of(live, task_id, (fire_at, origin, name))
    heapq.heappush(
        self._timers, (fire_at, next(self._timer_order), instance_id, live.generation, task_id)
    )


def live_timer(self: Engine, entry: tuple[datetime, int, str, int, int]) -> Live | None:
    _, _, instance_id, generation, task_id = entry
    live = self._live.get(instance_id)
    if live is None or live.generation != generation or task_id not in live.timers:
        return None
    return live


def next_timer(self: Engine) -> datetime | None:
    while self._timers and self._live_timer(self._timers[0]) is None:
        heapq.heappop(self._timers)
    return self._timers[0][0] if self._timers else None


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
    fired: set[str] = set()
    unfinished: set[str] = set()  # instances in this call with due timers left
    deferred: list[tuple[datetime, int, str, int, int]] = []  # for the next call
    while timers and timers[0][0] <= now and (len(fired) < FIRE_BATCH or unfinished):
        entry = heapq.heappop(timers)
        live = self._live_timer(entry)
        if live is None:
            continue
        instance_id, task_id = entry[2], entry[4]
        if len(fired) >= FIRE_BATCH and instance_id not in unfinished:
            deferred.append(entry)
            continue
        fired.add(instance_id)
        self._fire_timer(live, task_id, now, jumped=jumped)
        if live.timers and any(timer[0] <= now for timer in live.timers.values()):
            unfinished.add(instance_id)
        else:
            unfinished.discard(instance_id)
    for entry in deferred:
        heapq.heappush(timers, entry)
    self.jumped_timers = jumped and bool(timers) and timers[0][0] <= now
    if fired and self._watchers:  # a start that waits for a resume runs no turn
        self._changed.notify_all()
    return bool(fired)


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
