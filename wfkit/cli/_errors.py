"""The command line's one error type."""

from __future__ import annotations


class CliError(Exception):
    """A failure reported as ``wfkit: error: <message>`` with exit code ``code``
    (1: the operation failed; 2: the command line was wrong)."""

    def __init__(self, message: str, *, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code
