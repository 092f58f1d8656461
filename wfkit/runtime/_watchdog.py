"""Bounds on user code, and the thread that watches them.

Workflow code that does not yield (a loop, a blocking call) and activities that never
return cannot be stopped in Python; the watchdog reports them with the source line they
are at, and the engine goes on without them (see ``Engine._detach``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

# CPython's one way to read another thread's frame, underscore notwithstanding
from sys import _current_frames as current_frames
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine


@dataclass(frozen=True)
class Limits:
    """Wall-clock bounds (seconds) the runtime holds user code to."""

    #: one instance's workflow code running this long without yielding is reported, and
    #: the engine goes on without it (it can be terminated; its result, if it ever
    #: returns, is recorded unless it was)
    stuck_turn_seconds: float = 10.0
    #: an activity running this long is reported (once); None: never
    stalled_activity_seconds: float | None = 300.0
    #: ``shutdown()`` returns after at most this long, leaving hung code behind
    shutdown_seconds: float = 10.0

    def __post_init__(self) -> None:
        for name in ("stuck_turn_seconds", "stalled_activity_seconds", "shutdown_seconds"):
            value = getattr(self, name)
            if value is None and name == "stalled_activity_seconds":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                from wfkit.core._errors import InvalidArgumentError

                raise InvalidArgumentError(
                    f"{name} must be a positive number of seconds, not {value!r}"
                )

    @property
    def period(self) -> float:
        """How often the watchdog looks."""
        bounds = [self.stuck_turn_seconds, self.stalled_activity_seconds or 1.0]
        return min(1.0, max(0.02, min(bounds) / 4))


def where(thread: threading.Thread) -> str:
    """The source line ``thread`` is running now (its innermost Python frame)."""
    # CPython's one way to read another thread's frame, underscore notwithstanding
    frame = current_frames().get(thread.ident or -1)
    if frame is None:
        return "an unknown line"
    code = frame.f_code
    return f"{code.co_filename}:{frame.f_lineno} (in {code.co_name})"


class Watchdog:
    """A daemon thread calling ``engine.check_health()`` every ``limits.period``."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wfkit-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = self._engine.limits.period
        while not self._stopped.wait(period):
            try:
                self._engine.check_health()
            except Exception as exc:  # the watchdog must keep watching
                self._engine.note_problem(f"the watchdog failed: {type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self._stopped.set()
