"""The ``wfkit`` command line (``wfkit --help``)."""

from wfkit.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
