"""The threads that run sync activities.

One thread runs them while they finish quickly: Python runs one thread at a time, so
more threads on quick activities only take turns at the interpreter (a 100k fan-out of
no-op activities takes nearly twice as long on six threads as on one). Whenever work
waits and no activity finished for ``FLUSH_SECONDS`` (the running ones block: I/O, a
sleep, a lock), one more thread takes work (an idle one woken, or a new one started, up
to the bound), so a short activity waits a few milliseconds at most behind another
instance's long one, and a fan-out of blocking calls has every thread within a few
milliseconds more.

Results are handed back at once while the queue is short; while a long queue drains (a
large fan-out) they are collected and handed back every ``FLUSH_SECONDS`` by a thread of
their own (which also watches for blocked threads), so a fan-out pays one engine-lock
round trip (and one commit) per batch rather than per activity, and no result waits
behind a long activity that follows it.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

Call = TypeVar("Call")


class ActivityWorkers(Generic[Call]):
    #: Seconds between two hand-backs of collected results; the pool grows when no
    #: activity finished in that time while work waited
    FLUSH_SECONDS = 0.002

    def __init__(
        self,
        size: int,
        run: Callable[[Call], tuple[Call, Any, BaseException | None]],
        deliver: Callable[[list[tuple[Call, Any, BaseException | None]]], None],
    ):
        self._size = size
        self._run = run
        self._deliver = deliver
        self._queue: collections.deque[Call] = collections.deque()
        # the hot paths take ``_lock`` itself (no Condition method frames per call);
        # ``_cond`` and ``_flushing`` wait and notify on it
        self._lock = lock = threading.Lock()
        self._cond = threading.Condition(lock)
        self._flushing = threading.Condition(lock)  # wakes the thread handing results back
        self._threads: list[threading.Thread] = []
        self._members: set[threading.Thread] = set()
        self._idle = 0
        self._finished = 0  # activities finished so far: the pool grows while it stays put
        #: what each thread is running now (left in flight if it hangs at shutdown)
        self._running: dict[threading.Thread, Call] = {}
        self._stopping = False
        self._closed = False
        self._outbox: list[tuple[Call, Any, BaseException | None]] = []
        self._flusher: threading.Thread | None = None

    def submit(self, calls: list[Call]) -> None:
        me = threading.current_thread()
        with self._lock:
            self._queue.extend(calls)
            # a worker handing results back (a chain's next call) takes work next itself
            taker = me in self._members and me not in self._running
            if self._flusher is None:
                self._flusher = self._spawn(self._flush, "wfkit-activity-results")
            if len(self._queue) > taker:  # (a chain's next call wakes no one)
                if not taker and self._idle == len(self._threads):  # no thread at work
                    self._add()
                self._flushing.notify()  # the rest wait for a free thread, or a new one

    def _add(self) -> None:
        """Have one more thread take work: an idle one, else a new one (lock held)."""
        if self._idle:
            self._cond.notify()
            return
        self._threads = [t for t in self._threads if t.is_alive()]
        if len(self._threads) < self._size:
            thread = self._spawn(self._work, "wfkit-activity")
            self._threads.append(thread)
            self._members = set(self._threads)

    def _short(self) -> bool:
        """Whether work waits that no thread is free to take, below the bound (lock held)."""
        return bool(self._queue) and len(self._threads) - self._idle < self._size

    @staticmethod
    def _spawn(target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _work(self) -> None:
        me = threading.current_thread()
        queue, cond, lock, size, run = self._queue, self._cond, self._lock, self._size, self._run
        running = self._running
        result = None
        while True:
            out = None
            with lock:  # one lock round trip per activity: finish one, take the next
                if result is not None:
                    if self._closed:
                        return  # abandoned at shutdown: the call runs again at the next start
                    del running[me]  # (shutdown clears ``running`` as it closes)
                    self._finished += 1
                    outbox = self._outbox
                    outbox.append(result)
                    result = None
                    if len(queue) < size:  # no long queue draining: hand back now
                        out, self._outbox = outbox, []
                    elif len(outbox) == 1:
                        self._flushing.notify()
                call = queue.popleft() if queue and not self._stopping else None
                if call is not None:
                    running[me] = call
            if out:
                self._deliver(out)  # may queue the next call of a chain (taken just below)
            if call is None:
                with lock:
                    if not queue and not self._stopping:
                        self._idle += 1
                        while not queue and not self._stopping:
                            cond.wait()
                        self._idle -= 1
                    if self._stopping:
                        return
                    call = queue.popleft()
                    running[me] = call
            result = run(call)

    def _flush(self) -> None:
        """Hand back collected results every FLUSH_SECONDS while there are any, and add
        threads while work waits and no activity finishes."""
        lock = self._lock
        while True:
            with lock:
                while not (self._outbox or self._short()) and not self._stopping:
                    self._flushing.wait()
                if self._stopping:
                    return
                finished = self._finished
            time.sleep(self.FLUSH_SECONDS)
            with lock:
                out, self._outbox = self._outbox, []
                if self._finished == finished and self._short() and not self._stopping:
                    self._add()
            if out:
                self._deliver(out)  # may run a turn (whose code may never return)
                if threading.current_thread() is not self._flusher:
                    return  # replaced meanwhile (see ``lost``)

    def lost(self, thread: threading.Thread) -> None:
        """``thread`` runs workflow code that does not return (the engine gave up its
        turn): the pool goes on without it. Results thread or worker, it is replaced (a
        worker when work waits); if its code ever returns, it stops or works on."""
        with self._lock:
            if self._stopping:
                return
            if thread is self._flusher:
                self._flusher = self._spawn(self._flush, "wfkit-activity-results")
            elif thread in self._members:
                self._threads.remove(thread)
                self._members.discard(thread)
                if self._queue:
                    self._add()

    def shutdown(self, timeout: float | None) -> list[Call]:
        """Stop after the activities now running, waiting at most ``timeout`` seconds for
        them; return the calls never started and those still running (hung: they are
        abandoned, and their results, if they ever come, are dropped)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            self._flushing.notify_all()
        # wait for the activities running now (not for a thread that runs a turn: the
        # engine lets go of that one itself)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._running and (deadline is None or time.monotonic() < deadline):
                self._cond.wait(0.01)
        with self._cond:
            self._closed = True
            hung = list(self._running.values())
            self._running.clear()
            left_over = list(self._queue)
            self._queue.clear()
            out, self._outbox = self._outbox, []
        if out:
            self._deliver(out)
        return hung + left_over
