"""What the verbs of the command line share: checking JSON arguments, the instance id
given, where the instances are (``--url`` or ``--db``), and printing to a terminal."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from wfkit.cli._backends import Backend, DbBackend, HttpBackend
from wfkit.cli._errors import CliError
from wfkit.cli._output import terminal_safe

DEFAULT_URL = "http://127.0.0.1:3500"
STATUSES = ["RUNNING", "COMPLETED", "FAILED", "TERMINATED", "PENDING", "SUSPENDED", "STALLED"]


def json_text(text: str | None, option: str) -> str | None:
    """Validate a JSON argument; returns it unchanged (None when not given)."""
    if text is None:
        return None
    try:
        json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError) as exc:
        raise CliError(
            f"{option} is not valid JSON ({exc}): {text!r}. Strings need JSON quotes, e.g. "
            f"{option} '\"text\"'; objects: {option} '{{\"approved\": true}}'",
            code=2,
        ) from None
    return text


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_value(text: str | None, option: str) -> Any:
    checked = json_text(text, option)
    return None if checked is None else json.loads(checked)


def instance_id_of(args: argparse.Namespace) -> str:
    positional = getattr(args, "instance", None)
    option = getattr(args, "instance_id", None)
    if positional and option and positional != option:
        raise CliError(
            f"two instance ids given ({positional!r} and --instance-id {option!r}); give one",
            code=2,
        )
    instance_id = positional or option
    if not instance_id:
        raise CliError(
            f"which instance? give its id: wfkit {args.verb} ID (or --instance-id ID); "
            "wfkit list shows them",
            code=2,
        )
    return str(instance_id)


def token_of(args: argparse.Namespace) -> str | None:
    return (
        getattr(args, "token", None)
        or os.environ.get("WFKIT_TOKEN")
        or os.environ.get("DAPR_API_TOKEN")
        or None
    )


def backend_of(args: argparse.Namespace) -> Backend:
    url = getattr(args, "url", None)
    db = getattr(args, "db", None)
    if url and db:
        raise CliError("give --url or --db, not both", code=2)
    if not url and not db:
        url = os.environ.get("WFKIT_URL") or None
        db = None if url else (os.environ.get("WFKIT_DB") or None)
    if db:
        return DbBackend(db)
    timeout = getattr(args, "timeout_http", None) or 30.0
    return HttpBackend(url or DEFAULT_URL, token=token_of(args), timeout=timeout)


def print_text(text: str) -> None:
    sys.stdout.write(terminal_safe(text) + ("\n" if not text.endswith("\n") else ""))
