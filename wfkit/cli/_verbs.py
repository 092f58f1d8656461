"""The verbs that read and manage instances where they are (``--url`` or ``--db``), and
``replay`` and ``serve``, which load the code of a file or module."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wfkit.cli._args import (
    STATUSES,
    backend_of,
    instance_id_of,
    json_text,
    json_value,
    print_text,
    token_of,
)
from wfkit.cli._backends import TERMINAL
from wfkit.cli._errors import CliError
from wfkit.cli._output import (
    HISTORY_SHORT,
    HISTORY_WIDE,
    LIST_SHORT,
    LIST_WIDE,
    history_rows,
    instance_rows,
    render,
)
from wfkit.core._errors import WfkitError


def cmd_list(args: argparse.Namespace) -> int:
    status = args.status.upper() if args.status else None
    if status is not None and status not in STATUSES:
        raise CliError(f"unknown status {args.status!r}; one of {', '.join(STATUSES)}", code=2)
    backend = backend_of(args)
    now, instances = backend.instances(args.name or None, status)
    rows = instance_rows(now, instances)
    print_text(render(rows, args.output, short=LIST_SHORT, wide=LIST_WIDE))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    backend = backend_of(args)
    state = backend.status(instance_id_of(args))
    print_text(render(state, "yaml" if args.output == "yaml" else "json"))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    backend = backend_of(args)
    now, events = backend.history(instance_id_of(args))
    rows = history_rows(now, events)
    print_text(render(rows, args.output, short=HISTORY_SHORT, wide=HISTORY_WIDE))
    return 0


def cmd_raise_event(args: argparse.Namespace) -> int:
    instance_id = instance_id_of(args)
    if not args.event_name:
        raise CliError("--event-name must not be empty", code=2)
    data = json_text(args.event_data, "--event-data")
    backend_of(args).raise_event(instance_id, args.event_name, data)
    print_text(f"Event {args.event_name!r} raised on workflow instance {instance_id!r}")
    return 0


def command_verb(verb: str, done: str) -> Callable[[argparse.Namespace], int]:
    """The verb that sends ``verb`` (pause, resume, terminate) to one instance."""

    def run(args: argparse.Namespace) -> int:
        instance_id = instance_id_of(args)
        body = json_text(getattr(args, "output_data", None), "--output")
        backend_of(args).command(verb, instance_id, body)
        print_text(f"Workflow instance {instance_id!r} {done}")
        return 0

    return run


def cmd_purge(args: argparse.Namespace) -> int:
    ids = list(args.instances or [])
    if args.instance_id:
        ids.append(args.instance_id)
    if args.all and ids:
        raise CliError("give instance ids or --all, not both", code=2)
    if not args.all and not ids:
        raise CliError(
            "which instances? give their ids (wfkit purge ID [ID ...]), or --all for every "
            "finished one",
            code=2,
        )
    backend = backend_of(args)
    if args.all:
        _now, instances = backend.instances(None, None)
        ids = [i["instanceID"] for i in instances if i.get("runtimeStatus") in TERMINAL]
    for instance_id in ids:
        backend.command("purge", instance_id)
        print_text(f"Workflow instance {instance_id!r} purged")
    if args.all:
        print_text(f"{len(ids)} finished instance(s) purged")
    return 0


def cmd_rerun(args: argparse.Namespace) -> int:
    instance_id = instance_id_of(args)
    if args.event_id < 0:
        raise CliError(
            "--event-id must be >= 0 (the id of a scheduling event: see wfkit history)", code=2
        )
    request: dict[str, Any] = {"eventId": args.event_id}
    if args.new_instance_id:
        request["newInstanceId"] = args.new_instance_id
    if args.input is not None:
        request["input"] = json_value(args.input, "--input")
    new = backend_of(args).rerun(instance_id, request)
    print_text(f"Workflow instance {instance_id!r} rerun from event {args.event_id} as {new!r}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from wfkit.cli._load import find_runtime, load_module

    folder = Path(args.histories)
    if not folder.exists():
        raise CliError(f"no such folder or file: {args.histories}", code=2)
    try:
        from wfkit.timetravel import check_histories
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise CliError(
            f"replay needs wfkit.timetravel, which cannot be loaded here ({exc})"
        ) from None
    module = load_module(args.app)
    runtime = find_runtime(module, args.app)
    try:
        results = check_histories(folder, runtime, pattern=args.pattern)
    except Exception as exc:
        raise CliError(f"checking {folder} failed: {type(exc).__name__}: {exc}") from None
    finally:
        runtime.shutdown()
    if not results:
        raise CliError(f"no histories in {folder} (files matching {args.pattern!r})")
    failed = [r for r in results if not r.ok]
    if args.output == "json":
        print_text(json.dumps([r.to_json() for r in results], indent=2))
    else:
        for result in results:
            label = "ok      " if result.ok else ("DIVERGED" if result.divergence else "ERROR   ")
            print_text(f"{label} {result}")
        print_text(
            f"{len(results)} history(ies) checked against {args.app}: "
            f"{len(results) - len(failed)} replay, {len(failed)} do not"
        )
    return 1 if failed else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from wfkit.cli._load import find_runtime, load_module

    module = load_module(args.app)
    runtime = find_runtime(module, args.app)
    try:
        if not runtime.is_running:
            runtime.start()
        server = runtime.serve_http(
            args.port,
            host=args.host,
            token=token_of(args),
            allow_remote=args.allow_remote,
            poll_wait=args.poll_wait,
            allowed_hosts=args.allowed_hosts or (),
            stack_traces=args.stack_traces,
        )
    except ValueError as exc:
        runtime.shutdown()
        raise CliError(str(exc), code=2) from None
    except (OSError, WfkitError) as exc:
        runtime.shutdown()
        raise CliError(str(exc)) from None
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    names = ", ".join(runtime.workflows) or "none"
    print_text(f"Serving the workflow API of {args.app} at {server.url} (workflows: {names})")
    print_text(f"  wfkit list --url {server.url}    Ctrl-C stops")
    sys.stdout.flush()
    while not stop.wait(0.2):
        pass
    server.shutdown()
    runtime.shutdown()
    return 0
