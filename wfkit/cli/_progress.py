"""A progress bar on stderr for ``wfkit run --inputs``, drawn only on a terminal."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from wfkit.runtime._many import Progress

WIDTH = 30


class TerminalBar:
    """Redraws one line on ``stream`` (stderr) when it is a terminal; silent otherwise, so
    pipes and logs get only the final report."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.enabled = _isatty(self.stream)
        self.drawn = False

    def show(self, progress: Progress) -> None:
        if not self.enabled:
            return
        done = progress.finished * WIDTH // max(progress.total, 1)
        bar = "#" * done + "." * (WIDTH - done)
        self.stream.write(f"\r[{bar}] {progress.describe()}\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
