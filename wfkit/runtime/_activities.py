"""Activity dispatch: calls handed to the worker threads or the event loop, run with
their context, and their results delivered back (one thread at a time, all that
arrived at once in one turn and one commit: a group commit).

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from typing import TYPE_CHECKING, Any

from wfkit.core import _serde
from wfkit.core._history import (
    FailureDetails,
    HistoryEvent,
    TaskCompleted,
    TaskFailed,
)
from wfkit.core._registry import Registered
from wfkit.runtime import _apps
from wfkit.runtime._instances import (
    ActivityCall,
    activity_context_class,
)

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


def submit(self: Engine, calls: list[ActivityCall]) -> None:
    """Hand activity calls out (engine lock held): sync ones to the workers, async ones
    to the event loop, unknown names straight back as failures."""
    sync: list[ActivityCall] = []
    found: dict[str, Registered] = {}  # a fan-out looks each name up once
    for call in calls:
        decision = call.decision
        if decision.app_id not in (None, self.app_id) and call.origin is None:
            self._inflight += 1  # until the other app reports back
            call.origin = self
            _apps.post(functools.partial(_apps.run_activity, call))
            continue
        activity = found.get(decision.activity_name)
        if activity is None:
            try:
                activity = found[decision.activity_name] = self.registry.activity(
                    decision.activity_name
                )
            except Exception as exc:
                self._inflight += 1
                self.activities_done([(call, None, exc)])
                continue
        call.activity = activity
        self._inflight += 1
        if activity.is_async:
            asyncio.run_coroutine_threadsafe(self._run_async(activity, call), self._event_loop())
        else:
            sync.append(call)
    if sync:
        assert self._workers is not None
        self._workers.submit(sync)


def activity_context(self: Engine, call: ActivityCall) -> Any:
    d = call.decision
    return activity_context_class()(
        call.instance_id, d.task_id, d.task_execution_id, propagated=call.propagated
    )


def run_sync(self: Engine, call: ActivityCall) -> tuple[ActivityCall, Any, BaseException | None]:
    key = (call.instance_id, call.decision.task_id)
    self._executing[key] = (time.monotonic(), call.decision.activity_name)
    try:
        activity = call.activity or self.registry.activity(call.decision.activity_name)
        output = activity.invoke(self._activity_context(call), call.decision.input)
        return call, self._encode_result(call, output), None
    except BaseException as exc:
        return call, None, exc
    finally:
        self._executing.pop(key, None)


async def run_async(self: Engine, activity: Registered, call: ActivityCall) -> None:
    key = (call.instance_id, call.decision.task_id)
    self._executing[key] = (time.monotonic(), call.decision.activity_name)
    done: tuple[ActivityCall, Any, BaseException | None]
    try:
        output = await activity.invoke(self._activity_context(call), call.decision.input)
        done = (call, self._encode_result(call, output), None)
    except BaseException as exc:
        done = (call, None, exc)
    finally:
        self._executing.pop(key, None)
    self.activities_done([done])


def encode_result(self: Engine, call: ActivityCall, output: Any) -> str | None:
    return _serde.encode(
        output, what=f"result of activity {call.decision.activity_name!r}", limit=self.limit
    )


def event_loop(self: Engine) -> asyncio.AbstractEventLoop:
    with self._lock:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            self._loop_thread = threading.Thread(
                target=loop.run_forever, name="wfkit-async-activities", daemon=True
            )
            self._loop_thread.start()
            self._loop = loop
        return self._loop


def activities_done(
    self: Engine,
    done: list[tuple[ActivityCall, Any, BaseException | None]],
    *,
    run_turn: bool = False,
) -> None:
    """Deliver finished activity calls: (call, encoded result, error). With ``run_turn``
    (an activity worker), run the turn they make ready here instead of waking the engine.
    Calls run here for another app's instances go back to its engine.

    One thread delivers at a time; results that arrive meanwhile (while it waits for
    the lock, or runs a turn and its store commit, durable on a file) are left for it,
    and the thread that brought them goes back to its work. The deliverer takes them
    all at once: one turn and one commit serve them all (a group commit)."""
    foreign = None
    for item in done:  # (a loop, not a comprehension: most calls bring one result)
        origin = item[0].origin
        if origin is not None and origin is not self:
            foreign = [d for d in done if d[0].origin is not None and d[0].origin is not self]
            break
    if foreign:
        with self._lock:
            self._inflight -= len(foreign)
            if not self._inflight:
                self._changed.notify_all()
        for item in foreign:
            item[0].origin.activities_done([item])
        done = [d for d in done if d[0].origin in (None, self)]
        if not done:
            return
    with self._arrival:
        self._arrived.extend(done)
        if self._delivering:
            return
        self._delivering = True
    while True:
        with self._arrival:  # (no engine lock round trip to find nothing left)
            if not self._arrived:
                self._delivering = False
                return
        with self._lock:
            with self._arrival:  # with those that arrived while it waited for the lock
                done, self._arrived = self._arrived, []
            self._deliver_results(done, run_turn=run_turn)


def deliver_results(
    self: Engine, done: list[tuple[ActivityCall, Any, BaseException | None]], *, run_turn: bool
) -> None:
    self._inflight -= len(done)
    now = self.clock.now()
    find, deliver = self._live.get, self._deliver
    for call, encoded, error in done:
        live = find(call.instance_id)
        if live is None or live.generation != call.generation:
            continue  # the instance finished or started over meanwhile
        task_id = call.decision.task_id
        event: HistoryEvent
        if error is None:
            event = TaskCompleted(timestamp=now, task_scheduled_id=task_id, result=encoded)
        else:
            event = TaskFailed(
                timestamp=now, task_scheduled_id=task_id, failure=FailureDetails.of(error)
            )
        deliver(live, event)
    if run_turn and self._ready and self.running:
        self._run_ready()
    if self._ready or not self._inflight:  # the engine thread has work, or timers
        self._wake.notify()
    if not self._inflight:
        self._changed.notify_all()
