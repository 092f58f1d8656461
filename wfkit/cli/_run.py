"""``wfkit run``: a workflow of a file or module run here, headless (one instance, or one
per input of ``--inputs``), or a workflow started in a served runtime (``--url``)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfkit.cli._args import backend_of, json_text, json_value, print_text
from wfkit.cli._backends import TERMINAL, DbBackend, HttpBackend
from wfkit.cli._errors import CliError
from wfkit.cli._output import (
    HISTORY_SHORT,
    HISTORY_WIDE,
    LIST_SHORT,
    LIST_WIDE,
    history_rows,
    humanize,
    instance_rows,
    render,
)
from wfkit.core._errors import WfkitError

if TYPE_CHECKING:
    from wfkit.core._state import WorkflowState
    from wfkit.runtime._runtime import WorkflowRuntime


def _event_arg(text: str) -> tuple[str, Any]:
    name, sep, data = text.partition("=")
    if not name:
        raise CliError(f"--event takes NAME or NAME=JSON, not {text!r}", code=2)
    return name, json_value(data, f"--event {name}=") if sep else None


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

    source, workflow = split_target(args.target)
    data = json_value(args.input, "--input")
    events = [_event_arg(e) for e in args.event or []]
    if args.wait_timeout < 0:
        raise CliError("--timeout must be >= 0 seconds (0: wait forever)", code=2)
    inputs = _inputs(args)
    module = load_module(source)
    runtime, name = runtime_for_workflow(module, source, workflow)
    if inputs is not None:
        return _run_inputs(args, runtime, name, inputs)
    state, history, wall = _run_one(args, runtime, name, data, events)
    _print_run(args, name, state, history, wall)
    return 0 if state.runtime_status.name == "COMPLETED" else 1


def _run_one(
    args: argparse.Namespace,
    runtime: WorkflowRuntime,
    name: str,
    data: Any,
    events: list[tuple[str, Any]],
) -> tuple[WorkflowState, list[dict[str, Any]], float]:
    """Run one instance to its end (its events raised once started) and shut the runtime
    down; returns its final state, its history as JSON, and the wall seconds it took."""
    from wfkit.inspect._views import event_json
    from wfkit.runtime._client import DaprWorkflowClient

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
        history = [event_json(s) for s in runtime.store.history(instance_id)]
    except (WfkitError, ValueError, TypeError) as exc:
        raise CliError(f"{type(exc).__name__}: {exc}") from None
    finally:
        runtime.shutdown()
    return state, history, wall


def _print_run(
    args: argparse.Namespace,
    name: str,
    state: WorkflowState,
    history: list[dict[str, Any]],
    wall: float,
) -> None:
    from wfkit.inspect._views import instance_json

    view = instance_json(state)
    rows = history_rows(view["lastUpdatedAt"], history)
    if args.output in ("json", "yaml"):
        print_text(render({"instance": view, "history": rows}, args.output))
        return
    virtual = humanize(state.last_updated_at - state.created_at)
    print_text(
        f"Workflow {name!r}, instance {state.instance_id!r}: {state.runtime_status.name} "
        f"(virtual time {virtual}, wall time {humanize(timedelta(seconds=wall))})"
    )
    if state.serialized_output is not None:
        print_text(f"Output: {state.serialized_output}")
    if state.failure_details is not None:
        failure = state.failure_details
        print_text(f"Failure: {failure.error_type}: {failure.message}")
    print_text("")
    print_text(render(rows, args.output, short=HISTORY_SHORT, wide=HISTORY_WIDE))


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
        values = json_value(text, "--inputs")
        return list(values)
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    return [json_value(line, f"--inputs line {n}") for n, line in lines]


def _run_inputs(
    args: argparse.Namespace, runtime: WorkflowRuntime, name: str, inputs: list[Any]
) -> int:
    """One instance per input, with a progress bar on a terminal; Ctrl-C stops waiting and
    leaves the store consistent (unfinished instances resume when it is opened again)."""
    from wfkit.cli._progress import TerminalBar
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
        print_text(render(rows, args.output))
    else:
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print_text(f"Workflow {name!r}: {len(states)} instances, {summary}")
        print_text(render(rows, args.output, short=LIST_SHORT, wide=LIST_WIDE))
    return 0 if counts.get("COMPLETED", 0) == len(states) else 1


def _run_remote(args: argparse.Namespace) -> int:
    if args.inputs:
        raise CliError("--inputs works with run FILE:WORKFLOW (the code runs here)", code=2)
    if args.event:
        raise CliError(
            "--event works with run FILE:WORKFLOW; over --url use wfkit raise-event", code=2
        )
    data = json_text(args.input, "--input")
    backend = backend_of(args)
    if isinstance(backend, DbBackend):
        raise CliError(
            f"{args.target!r} names no code (write FILE:WORKFLOW to run it here), and a store "
            "file cannot run workflows: use --url to start it in a served runtime",
            code=2,
        )
    instance_id = backend.start(args.target, data, args.instance_id)
    if not args.wait:
        print_text(f"Workflow {args.target!r} started with instance id {instance_id!r}")
        return 0
    assert isinstance(backend, HttpBackend)
    state = backend.wait(instance_id, args.wait_timeout or 3600.0)
    print_text(render(state, "yaml" if args.output == "yaml" else "json"))
    status = state.get("runtimeStatus")
    if status not in TERMINAL:
        raise CliError(f"instance {instance_id!r} is still {status} after {args.wait_timeout:g} s")
    return 0 if status == "COMPLETED" else 1
