"""Pausing the cyclic garbage collector around bulk work."""

from __future__ import annotations

import contextlib
import gc
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
