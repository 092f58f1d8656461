"""The parser of the ``wfkit`` command line: one small function a verb, in the order
``wfkit --help`` lists them."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from wfkit.cli._args import STATUSES
from wfkit.cli._output import FORMATS
from wfkit.cli._run import cmd_run
from wfkit.cli._verbs import (
    cmd_history,
    cmd_list,
    cmd_purge,
    cmd_raise_event,
    cmd_replay,
    cmd_rerun,
    cmd_serve,
    cmd_status,
    command_verb,
)

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


def _where(parser: argparse.ArgumentParser, *, where: bool = True) -> None:
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


def _list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-w", "--name", "--filter-name", dest="name", help="only this workflow")
    p.add_argument(
        "-s",
        "--status",
        "--filter-status",
        dest="status",
        help="only this status: " + ", ".join(STATUSES),
    )
    _output_arg(p)
    _where(p)
    p.set_defaults(func=cmd_list)


def _status_args(p: argparse.ArgumentParser) -> None:
    _instance_args(p)
    _output_arg(p, ("json", "yaml"), "json")
    _where(p)
    p.set_defaults(func=cmd_status)


def _history_args(p: argparse.ArgumentParser) -> None:
    _instance_args(p)
    _output_arg(p)
    _where(p)
    p.set_defaults(func=cmd_history)


def _raise_event_args(p: argparse.ArgumentParser) -> None:
    _instance_args(p)
    p.add_argument("-e", "--event-name", required=True, help="the event name")
    p.add_argument(
        "--event-data",
        "--data",
        dest="event_data",
        metavar="JSON",
        help="the event's data, as JSON",
    )
    _where(p)
    p.set_defaults(func=cmd_raise_event)


def _command_args(verb: str, done: str) -> Callable[[argparse.ArgumentParser], None]:
    """The arguments of a verb sending ``verb`` to one instance (terminate takes an output)."""

    def add(p: argparse.ArgumentParser) -> None:
        _instance_args(p)
        if verb == "terminate":
            p.add_argument(
                "--output", dest="output_data", metavar="JSON", help="output to record, as JSON"
            )
        _where(p)
        p.set_defaults(func=command_verb(verb, done))

    return add


def _purge_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("instances", nargs="*", metavar="INSTANCE_ID", help="the instance ids")
    p.add_argument("-i", "--instance-id", dest="instance_id", help="an instance id")
    p.add_argument("--all", action="store_true", help="every finished instance")
    _where(p)
    p.set_defaults(func=cmd_purge)


def _rerun_args(p: argparse.ArgumentParser) -> None:
    _instance_args(p)
    p.add_argument(
        "--event-id",
        type=int,
        required=True,
        help="id of an activity, timer or child workflow scheduling event (see wfkit history)",
    )
    p.add_argument("--new-instance-id", help="id of the new instance (default: a random uuid)")
    p.add_argument("--input", metavar="JSON", help="new input for the rerun call, as JSON")
    _where(p)
    p.set_defaults(func=cmd_rerun)


def _run_args(p: argparse.ArgumentParser) -> None:
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
    _where(p)
    p.set_defaults(func=cmd_run)


def _replay_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("histories", metavar="HISTORIES", help="folder of saved histories (or a file)")
    p.add_argument(
        "--app", required=True, metavar="FILE_OR_MODULE", help="the code: a .py file or a module"
    )
    p.add_argument(
        "--pattern", default="*.json", help="names of the files to check (default *.json)"
    )
    _output_arg(p, ("table", "json"))
    p.set_defaults(func=cmd_replay)


def _serve_args(p: argparse.ArgumentParser) -> None:
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
    _where(p, where=False)
    p.set_defaults(func=cmd_serve)


_RUN_DESCRIPTION = (
    "Run FILE_OR_MODULE:WORKFLOW in this process: import the file or module, find its "
    "WorkflowRuntime (or register the function on a fresh one), run the workflow with "
    "the virtual clock fast-forwarding its timers, and print the result and the history "
    "(exit code 1 unless it COMPLETED). With WORKFLOW alone, start it in the runtime "
    "served at --url and print its instance id (--wait: wait for the result)."
)
_REPLAY_DESCRIPTION = (
    "Replay every saved history in HISTORIES (a folder, or one file) against the "
    "workflows of --app and report the first divergence of each; the exit code is 1 "
    "when any history diverges (for CI)."
)
_SERVE_DESCRIPTION = (
    "Import FILE_OR_MODULE, start its WorkflowRuntime and serve Dapr's workflow HTTP API "
    "for it until interrupted (the seed's curl commands work against it)."
)

# The verbs, in the order of `wfkit --help`: name, help, description (None: the help), and
# the function adding the verb's arguments.
_VERBS: tuple[tuple[str, str, str | None, Callable[[argparse.ArgumentParser], None]], ...] = (
    ("list", "list workflow instances, oldest first", None, _list_args),
    ("status", "show one instance (Dapr's HTTP API fields)", None, _status_args),
    (
        "history",
        "show an instance's history: type, name, elapsed, status, details",
        None,
        _history_args,
    ),
    ("raise-event", "send an event to a running instance", None, _raise_event_args),
    ("suspend", "suspend (pause) a running instance", None, _command_args("pause", "suspended")),
    ("resume", "resume a suspended instance", None, _command_args("resume", "resumed")),
    (
        "terminate",
        "terminate a running instance and its children",
        None,
        _command_args("terminate", "terminated"),
    ),
    ("purge", "delete finished instances and their histories", None, _purge_args),
    (
        "rerun",
        "start a new instance from a finished one's history, from a scheduling event on",
        None,
        _rerun_args,
    ),
    (
        "run",
        "run a workflow: FILE_OR_MODULE:WORKFLOW here, headless, or WORKFLOW in a served runtime",
        _RUN_DESCRIPTION,
        _run_args,
    ),
    (
        "replay",
        "check saved histories against the current code (exit 1 on a divergence)",
        _REPLAY_DESCRIPTION,
        _replay_args,
    ),
    (
        "serve",
        "serve the workflow HTTP API of a file's or module's runtime",
        _SERVE_DESCRIPTION,
        _serve_args,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``wfkit``: a subparser a verb, each calling its ``func``."""
    from wfkit.core._version import __version__

    parser = argparse.ArgumentParser(
        prog="wfkit",
        description="Manage wfkit workflow instances: the verbs of `dapr workflow`, against a "
        "notebook's HTTP endpoint (--url) or a DuckDB store file (--db).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wfkit {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    for name, help, description, add_arguments in _VERBS:
        sub = verbs.add_parser(
            name,
            help=help,
            description=description or help,
            epilog=None if name in ("replay", "serve") else EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_arguments(sub)
    return parser
