"""The ``wfkit`` command line (``wfkit --help``)."""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
