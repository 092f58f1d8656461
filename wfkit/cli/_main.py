"""``wfkit``: manage workflow instances from a shell, with the verbs of ``dapr workflow``.

Instances live in a running notebook (reached through the HTTP API it serves with
``wfr.serve_http()``: ``--url``) or in a DuckDB store file (``--db``; read-only unless
purging, and readable while another process writes it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from wfkit.cli._backends import TERMINAL, Backend, DbBackend, HttpBackend
from wfkit.cli._errors import CliError
from wfkit.cli._output import (
    FORMATS,
    HISTORY_SHORT,
    HISTORY_WIDE,
    LIST_SHORT,
    LIST_WIDE,
    history_rows,
    humanize,
    instance_rows,
    render,
    terminal_safe,
)
from wfkit.core._errors import StoreFormatError, WfkitError

DEFAULT_URL = "http://127.0.0.1:3500"
STATUSES = ["RUNNING", "COMPLETED", "FAILED", "TERMINATED", "PENDING", "SUSPENDED", "STALLED"]

EPILOG = """\
where the instances are (every verb but run and replay):
  --url URL   a runtime's HTTP API: in a notebook, wfr.serve_http(port=3500); in a shell,
              wfkit serve app.py  (default: $WFKIT_URL, else http://127.0.0.1:3500)
  --db FILE   a DuckDB store file (WorkflowRuntime(store="file.duckdb")); reads work while
              another process writes it  (default: $WFKIT_DB)

examples:
  wfkit list --url http://127.0.0.1:3500 --status RUNNING
  wfkit raise-event --app-id my-workflow-app --instance-id <id> \\
      --event-name human_approval --event-data '{"approved": true}'
  wfkit history <id> --db runs.duckdb
  wfkit run app.py:request_escalation --input '{"amount": 5000}'
"""


# --------------------------------------------------------------------------- arguments
def _json_text(text: str | None, option: str) -> str | None:
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


def _json_value(text: str | None, option: str) -> Any:
    checked = _json_text(text, option)
    return None if checked is None else json.loads(checked)


def _instance(args: argparse.Namespace) -> str:
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


def _token(args: argparse.Namespace) -> str | None:
    return (
        getattr(args, "token", None)
        or os.environ.get("WFKIT_TOKEN")
        or os.environ.get("DAPR_API_TOKEN")
        or None
    )


def _backend(args: argparse.Namespace) -> Backend:
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
    return HttpBackend(url or DEFAULT_URL, token=_token(args), timeout=timeout)


def _print(text: str) -> None:
    sys.stdout.write(terminal_safe(text) + ("\n" if not text.endswith("\n") else ""))


# --------------------------------------------------------------------------- verbs
def cmd_list(args: argparse.Namespace) -> int:
    status = args.status.upper() if args.status else None
    if status is not None and status not in STATUSES:
        raise CliError(f"unknown status {args.status!r}; one of {', '.join(STATUSES)}", code=2)
    backend = _backend(args)
    now, instances = backend.instances(args.name or None, status)
    rows = instance_rows(now, instances)
    _print(render(rows, args.output, short=LIST_SHORT, wide=LIST_WIDE))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    backend = _backend(args)
    state = backend.status(_instance(args))
    _print(render(state, "yaml" if args.output == "yaml" else "json"))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    backend = _backend(args)
    now, events = backend.history(_instance(args))
    rows = history_rows(now, events)
    _print(render(rows, args.output, short=HISTORY_SHORT, wide=HISTORY_WIDE))
    return 0


def cmd_raise_event(args: argparse.Namespace) -> int:
    instance_id = _instance(args)
    if not args.event_name:
        raise CliError("--event-name must not be empty", code=2)
    data = _json_text(args.event_data, "--event-data")
    _backend(args).raise_event(instance_id, args.event_name, data)
    _print(f"Event {args.event_name!r} raised on workflow instance {instance_id!r}")
    return 0


def _command(verb: str, done: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        instance_id = _instance(args)
        body = _json_text(getattr(args, "output_data", None), "--output")
        _backend(args).command(verb, instance_id, body)
        _print(f"Workflow instance {instance_id!r} {done}")
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
    backend = _backend(args)
    if args.all:
        _now, instances = backend.instances(None, None)
        ids = [i["instanceID"] for i in instances if i.get("runtimeStatus") in TERMINAL]
    for instance_id in ids:
        backend.command("purge", instance_id)
        _print(f"Workflow instance {instance_id!r} purged")
    if args.all:
        _print(f"{len(ids)} finished instance(s) purged")
    return 0


def cmd_rerun(args: argparse.Namespace) -> int:
    instance_id = _instance(args)
    if args.event_id < 0:
        raise CliError(
            "--event-id must be >= 0 (the id of a scheduling event: see wfkit history)", code=2
        )
    request: dict[str, Any] = {"eventId": args.event_id}
    if args.new_instance_id:
        request["newInstanceId"] = args.new_instance_id
    if args.input is not None:
        request["input"] = _json_value(args.input, "--input")
    new = _backend(args).rerun(instance_id, request)
    _print(f"Workflow instance {instance_id!r} rerun from event {args.event_id} as {new!r}")
    return 0


def _event_arg(text: str) -> tuple[str, Any]:
    name, sep, data = text.partition("=")
    if not name:
        raise CliError(f"--event takes NAME or NAME=JSON, not {text!r}", code=2)
    return name, _json_value(data, f"--event {name}=") if sep else None


def cmd_run(args: argparse.Namespace) -> int:
    if ":" not in args.target:
        if args.target.endswith(".py") or "/" in args.target or Path(args.target).exists():
            raise CliError(
                f"which workflow of {args.target}? write FILE:WORKFLOW, e.g. "
                f"wfkit run {args.target}:my_workflow (a name alone starts a workflow in the "
                "runtime served at --url)",
                code=2,
            )
        return _run_remote(args)
    if getattr(args, "url", None) or getattr(args, "db", None):
        raise CliError(
            "run FILE:WORKFLOW runs the code here, in this process; to start a workflow in a "
            "served runtime give its name only: wfkit run WORKFLOW --url URL",
            code=2,
        )
    from wfkit.cli._load import load_module, runtime_for_workflow, split_target
    from wfkit.inspect._views import event_json, instance_json
    from wfkit.runtime._client import DaprWorkflowClient

    source, workflow = split_target(args.target)
    data = _json_value(args.input, "--input")
    events = [_event_arg(e) for e in args.event or []]
    if args.wait_timeout < 0:
        raise CliError("--timeout must be >= 0 seconds (0: wait forever)", code=2)
    inputs = _inputs(args)
    module = load_module(source)
    runtime, name = runtime_for_workflow(module, source, workflow)
    if inputs is not None:
        return _run_inputs(args, runtime, name, inputs)
    try:
        if not runtime.is_running:
            runtime.start()
        client = DaprWorkflowClient(runtime)
        instance_id = client.schedule_new_workflow(name, input=data, instance_id=args.instance_id)
        for event_name, event_data in events:
            client.raise_workflow_event(instance_id, event_name, data=event_data)
        started = time.monotonic()
        try:
            state = client.wait_for_workflow_completion(
                instance_id,
                timeout_in_seconds=args.wait_timeout,  # type: ignore[arg-type]
            )
        except TimeoutError as exc:
            raise CliError(
                f"{exc}. A workflow waiting for an external event can be given it with "
                "--event NAME=JSON"
            ) from None
        wall = time.monotonic() - started
        assert state is not None
        events_json = [event_json(s) for s in runtime.store.history(instance_id)]
    except (WfkitError, ValueError, TypeError) as exc:
        raise CliError(f"{type(exc).__name__}: {exc}") from None
    finally:
        runtime.shutdown()
    view = instance_json(state)
    rows = history_rows(view["lastUpdatedAt"], events_json)
    if args.output in ("json", "yaml"):
        _print(render({"instance": view, "history": rows}, args.output))
    else:
        virtual = humanize(state.last_updated_at - state.created_at)
        _print(
            f"Workflow {name!r}, instance {instance_id!r}: {state.runtime_status.name} "
            f"(virtual time {virtual}, wall time {humanize(_seconds(wall))})"
        )
        if state.serialized_output is not None:
            _print(f"Output: {state.serialized_output}")
        if state.failure_details is not None:
            failure = state.failure_details
            _print(f"Failure: {failure.error_type}: {failure.message}")
        _print("")
        _print(render(rows, args.output, short=HISTORY_SHORT, wide=HISTORY_WIDE))
    return 0 if state.runtime_status.name == "COMPLETED" else 1


def _inputs(args: argparse.Namespace) -> list[Any] | None:
    """The values of --inputs FILE: a JSON array, or one JSON value per line."""
    if args.inputs is None:
        return None
    if args.input is not None or args.instance_id or args.event:
        raise CliError(
            "--inputs runs one instance per value: leave out --input, --instance-id and --event",
            code=2,
        )
    try:
        text = Path(args.inputs).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read --inputs {args.inputs}: {exc.strerror}", code=2) from None
    if text.lstrip().startswith("["):
        values = _json_value(text, "--inputs")
        return list(values)
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    return [_json_value(line, f"--inputs line {n}") for n, line in lines]


def _run_inputs(args: argparse.Namespace, runtime: Any, name: str, inputs: list[Any]) -> int:
    """One instance per input, with a progress bar on a terminal; Ctrl-C stops waiting and
    leaves the store consistent (unfinished instances resume when it is opened again)."""
    from wfkit.cli._progress import TerminalBar
    from wfkit.core._errors import WfkitError
    from wfkit.inspect._views import instance_json
    from wfkit.runtime._many import run_many

    bar = TerminalBar()
    try:
        if not runtime.is_running:
            runtime.start()
        states = run_many(
            runtime,
            [(name, value) for value in inputs],
            on_progress=bar.show,
            timeout_in_seconds=args.wait_timeout,
        )
    except KeyboardInterrupt:
        bar.close()
        print(
            "wfkit: interrupted; the instances scheduled so far are stored and resume when "
            "their runtime starts again",
            file=sys.stderr,
        )
        raise
    except TimeoutError as exc:
        raise CliError(str(exc)) from None
    except (WfkitError, ValueError, TypeError) as exc:
        raise CliError(f"{type(exc).__name__}: {exc}") from None
    finally:
        bar.close()
        runtime.shutdown()
    views = [instance_json(state) for state in states]
    now = max((v["lastUpdatedAt"] for v in views), default=None)
    rows = instance_rows(now, views)
    counts: dict[str, int] = {}
    for state in states:
        counts[state.runtime_status.name] = counts.get(state.runtime_status.name, 0) + 1
    if args.output in ("json", "yaml"):
        _print(render(rows, args.output))
    else:
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        _print(f"Workflow {name!r}: {len(states)} instances, {summary}")
        _print(render(rows, args.output, short=LIST_SHORT, wide=LIST_WIDE))
    return 0 if counts.get("COMPLETED", 0) == len(states) else 1


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)


def _run_remote(args: argparse.Namespace) -> int:
    if args.inputs:
        raise CliError("--inputs works with run FILE:WORKFLOW (the code runs here)", code=2)
    if args.event:
        raise CliError(
            "--event works with run FILE:WORKFLOW; over --url use wfkit raise-event", code=2
        )
    data = _json_text(args.input, "--input")
    backend = _backend(args)
    if isinstance(backend, DbBackend):
        raise CliError(
            f"{args.target!r} names no code (write FILE:WORKFLOW to run it here), and a store "
            "file cannot run workflows: use --url to start it in a served runtime",
            code=2,
        )
    instance_id = backend.start(args.target, data, args.instance_id)
    if not args.wait:
        _print(f"Workflow {args.target!r} started with instance id {instance_id!r}")
        return 0
    assert isinstance(backend, HttpBackend)
    state = backend.wait(instance_id, args.wait_timeout or 3600.0)
    _print(render(state, "yaml" if args.output == "yaml" else "json"))
    status = state.get("runtimeStatus")
    if status not in TERMINAL:
        raise CliError(f"instance {instance_id!r} is still {status} after {args.wait_timeout:g} s")
    return 0 if status == "COMPLETED" else 1


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
        _print(json.dumps([r.to_json() for r in results], indent=2))
    else:
        for result in results:
            label = "ok      " if result.ok else ("DIVERGED" if result.divergence else "ERROR   ")
            _print(f"{label} {result}")
        _print(
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
            token=_token(args),
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
    _print(f"Serving the workflow API of {args.app} at {server.url} (workflows: {names})")
    _print(f"  wfkit list --url {server.url}    Ctrl-C stops")
    sys.stdout.flush()
    while not stop.wait(0.2):
        pass
    server.shutdown()
    runtime.shutdown()
    return 0


# --------------------------------------------------------------------------- parser
def _common(parser: argparse.ArgumentParser, *, where: bool = True) -> None:
    group = parser.add_argument_group("connection")
    if where:
        group.add_argument(
            "--url", default=argparse.SUPPRESS, help="a runtime's HTTP API (see below)"
        )
        group.add_argument(
            "--db", default=argparse.SUPPRESS, metavar="FILE", help="a DuckDB store file"
        )
        group.add_argument(
            "--timeout-http",
            type=float,
            default=argparse.SUPPRESS,
            metavar="SECONDS",
            help="HTTP timeout (default 30)",
        )
    group.add_argument(
        "--token",
        default=argparse.SUPPRESS,
        help="API token of the server (default: $WFKIT_TOKEN or $DAPR_API_TOKEN)",
    )
    group.add_argument(
        "-a",
        "--app-id",
        default=argparse.SUPPRESS,
        help="accepted so Dapr command lines work unchanged; ignored",
    )


def _instance_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instance", nargs="?", metavar="INSTANCE_ID", help="the instance id")
    parser.add_argument(
        "-i", "--instance-id", dest="instance_id", help="the instance id (instead of INSTANCE_ID)"
    )


def _output_arg(
    parser: argparse.ArgumentParser, choices: tuple[str, ...] = FORMATS, default: str = "table"
) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=choices,
        default=default,
        help=f"output format (default {default})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wfkit",
        description="Manage wfkit workflow instances: the verbs of `dapr workflow`, against a "
        "notebook's HTTP endpoint (--url) or a DuckDB store file (--db).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from wfkit.core._version import __version__

    parser.add_argument("--version", action="version", version=f"wfkit {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    def verb(name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        sub = verbs.add_parser(
            name,
            help=help,
            description=description or help,
            epilog=None if name in ("replay", "serve") else EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return sub

    p = verb("list", "list workflow instances, oldest first")
    p.add_argument("-w", "--name", "--filter-name", dest="name", help="only this workflow")
    p.add_argument(
        "-s",
        "--status",
        "--filter-status",
        dest="status",
        help="only this status: " + ", ".join(STATUSES),
    )
    _output_arg(p)
    _common(p)
    p.set_defaults(func=cmd_list)

    p = verb("status", "show one instance (Dapr's HTTP API fields)")
    _instance_args(p)
    _output_arg(p, ("json", "yaml"), "json")
    _common(p)
    p.set_defaults(func=cmd_status)

    p = verb("history", "show an instance's history: type, name, elapsed, status, details")
    _instance_args(p)
    _output_arg(p)
    _common(p)
    p.set_defaults(func=cmd_history)

    p = verb("raise-event", "send an event to a running instance")
    _instance_args(p)
    p.add_argument("-e", "--event-name", required=True, help="the event name")
    p.add_argument(
        "--event-data",
        "--data",
        dest="event_data",
        metavar="JSON",
        help="the event's data, as JSON",
    )
    _common(p)
    p.set_defaults(func=cmd_raise_event)

    for name, verb_name, done, help_text in (
        ("suspend", "pause", "suspended", "suspend (pause) a running instance"),
        ("resume", "resume", "resumed", "resume a suspended instance"),
        ("terminate", "terminate", "terminated", "terminate a running instance and its children"),
    ):
        p = verb(name, help_text)
        _instance_args(p)
        if name == "terminate":
            p.add_argument(
                "--output", dest="output_data", metavar="JSON", help="output to record, as JSON"
            )
        _common(p)
        p.set_defaults(func=_command(verb_name, done))

    p = verb("purge", "delete finished instances and their histories")
    p.add_argument("instances", nargs="*", metavar="INSTANCE_ID", help="the instance ids")
    p.add_argument("-i", "--instance-id", dest="instance_id", help="an instance id")
    p.add_argument("--all", action="store_true", help="every finished instance")
    _common(p)
    p.set_defaults(func=cmd_purge)

    p = verb(
        "rerun",
        "start a new instance from a finished one's history, from a scheduling event on",
    )
    _instance_args(p)
    p.add_argument(
        "--event-id",
        type=int,
        required=True,
        help="id of an activity, timer or child workflow scheduling event (see wfkit history)",
    )
    p.add_argument("--new-instance-id", help="id of the new instance (default: a random uuid)")
    p.add_argument("--input", metavar="JSON", help="new input for the rerun call, as JSON")
    _common(p)
    p.set_defaults(func=cmd_rerun)

    p = verb(
        "run",
        "run a workflow: FILE_OR_MODULE:WORKFLOW here, headless, or WORKFLOW in a served runtime",
        "Run FILE_OR_MODULE:WORKFLOW in this process: import the file or module, find its "
        "WorkflowRuntime (or register the function on a fresh one), run the workflow with "
        "the virtual clock fast-forwarding its timers, and print the result and the history "
        "(exit code 1 unless it COMPLETED). With WORKFLOW alone, start it in the runtime "
        "served at --url and print its instance id (--wait: wait for the result).",
    )
    p.add_argument("target", metavar="FILE_OR_MODULE:WORKFLOW", help="e.g. app.py:order_workflow")
    p.add_argument("--input", metavar="JSON", help="the workflow's input, as JSON")
    p.add_argument(
        "--inputs",
        metavar="FILE",
        help="run one instance per input: a JSON array, or one JSON value per line "
        "(a progress bar on a terminal; Ctrl-C stops, the store stays consistent)",
    )
    p.add_argument("-i", "--instance-id", dest="instance_id", help="id of the new instance")
    p.add_argument(
        "--event",
        action="append",
        metavar="NAME=JSON",
        help="raise this event on the instance once started (repeatable)",
    )
    p.add_argument(
        "--timeout",
        dest="wait_timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wall seconds to wait for the result (default 60; 0: no limit)",
    )
    p.add_argument("--wait", action="store_true", help="with --url: wait for the result")
    _output_arg(p)
    _common(p)
    p.set_defaults(func=cmd_run)

    p = verb(
        "replay",
        "check saved histories against the current code (exit 1 on a divergence)",
        "Replay every saved history in HISTORIES (a folder, or one file) against the "
        "workflows of --app and report the first divergence of each; the exit code is 1 "
        "when any history diverges (for CI).",
    )
    p.add_argument("histories", metavar="HISTORIES", help="folder of saved histories (or a file)")
    p.add_argument(
        "--app", required=True, metavar="FILE_OR_MODULE", help="the code: a .py file or a module"
    )
    p.add_argument(
        "--pattern", default="*.json", help="names of the files to check (default *.json)"
    )
    _output_arg(p, ("table", "json"))
    p.set_defaults(func=cmd_replay)

    p = verb(
        "serve",
        "serve the workflow HTTP API of a file's or module's runtime",
        "Import FILE_OR_MODULE, start its WorkflowRuntime and serve Dapr's workflow HTTP API "
        "for it until interrupted (the seed's curl commands work against it).",
    )
    p.add_argument(
        "app", metavar="FILE_OR_MODULE", help="a .py file or a module defining a WorkflowRuntime"
    )
    p.add_argument(
        "--port", type=int, default=3500, help="TCP port (default 3500, as Dapr; 0: any free)"
    )
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument(
        "--allow-remote", action="store_true", help="allow a --host reachable from other machines"
    )
    p.add_argument(
        "--allowed-host",
        dest="allowed_hosts",
        action="append",
        metavar="NAME",
        help="another name clients reach the server by (repeatable; localhost and the "
        "address are always accepted)",
    )
    p.add_argument(
        "--stack-traces",
        action="store_true",
        help="include failures' stack traces (file paths of this machine) in answers",
    )
    p.add_argument(
        "--poll-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long a status poll waits on an unfinished instance, letting auto-skip "
        "jump time (default 0: reading a status never moves time)",
    )
    _common(p, where=False)
    p.set_defaults(func=cmd_serve)
    return parser


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
