"""Pausing the cyclic garbage collector around bulk work."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a burst of objects is built (a 100k-event
    history read, parsed or replayed): each burst would otherwise trigger full passes over
    the whole heap, which doubles the work. Whatever the burst leaves unreachable is
    collected by the first pass after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class BusyPause:
    """The cyclic collector paused while turns run back to back, resumed once the pause
    is ``SECONDS`` old: at the end of a turn, or by the engine thread when no turn of
    its engine runs (it wakes for it).

    Each turn builds objects that live on (events, records), each collection is
    triggered by a count of allocations, and a collection of the oldest generation
    passes over the whole heap. Paused per turn only, the collector would still run
    between two turns of a quick chain, once every few turns, and sometimes pass over
    the heap: a sixth of a 10k-activity chain's time. Paused across turns, it runs once
    a pause ends, on what the pause left. Cyclic garbage waits at most about
    ``SECONDS`` more; a collector the user turned off stays off.

    No lock: two threads that race here at worst pause or resume the collector twice,
    or let one turn of another engine run without the pause."""

    SECONDS = 0.05

    def __init__(self) -> None:
        self._since: float | None = None  # when this pause turned the collector off

    def turn_started(self) -> bool:
        """A turn starts; True if this began a pause (the caller's engine thread must
        wake by ``due()`` to end it)."""
        if self._since is not None or not gc.isenabled():
            return False
        gc.disable()
        self._since = time.monotonic()
        return True

    def end_if_due(self) -> None:
        """End the pause if it is due (at the end of a turn, or where none runs)."""
        since = self._since
        if since is not None and time.monotonic() - since >= self.SECONDS:
            self.end()

    def end(self) -> None:
        """End the pause now (a turn whose code does not return is given up)."""
        if self._since is not None:
            self._since = None
            gc.enable()

    def due(self) -> float | None:
        """Seconds until the pause may end (None: no pause of ours)."""
        since = self._since
        return None if since is None else since + self.SECONDS - time.monotonic()


#: The one pause every engine's turns share (the collector is the process's).
BUSY = BusyPause()
