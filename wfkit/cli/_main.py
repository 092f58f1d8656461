"""``wfkit``: manage workflow instances from a shell, with the verbs of ``dapr workflow``.

Instances live in a running notebook (reached through the HTTP API it serves with
``wfr.serve_http()``: ``--url``) or in a DuckDB store file (``--db``; read-only unless
purging, and readable while another process writes it). The verbs are in
:mod:`wfkit.cli._verbs` and :mod:`wfkit.cli._run`, their arguments in :mod:`wfkit.cli._parser`.
"""

from __future__ import annotations

import sys

from wfkit.cli._errors import CliError
from wfkit.cli._output import terminal_safe
from wfkit.cli._parser import build_parser
from wfkit.core._errors import StoreFormatError, WfkitError

__all__ = ["build_parser", "main"]


def _error(message: str, code: int) -> int:
    sys.stdout.flush()
    one_line = " ".join(message.split("\n"))
    print(f"wfkit: error: {terminal_safe(one_line)}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed, 2 misuse)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if not getattr(args, "verb", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except CliError as exc:
        return _error(exc.message, exc.code)
    except WfkitError as exc:  # e.g. a store file found damaged while reading it
        return _error(f"{type(exc).__name__}: {exc}", 2 if isinstance(exc, StoreFormatError) else 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
