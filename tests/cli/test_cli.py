"""The ``wfkit`` command line: the seed's raise-event command completing a waiting
instance from another process, every verb against a served runtime and a store file,
``run``/``serve``/``replay`` on code, and a clear message and exit code for every misuse."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from http_workflows import build
from hypothesis import given, settings
from hypothesis import strategies as st
from support import WAIT, complete, until

import wfkit as wf
from wfkit.cli import main
from wfkit.cli._output import humanize, to_yaml

HERE = Path(__file__).parents[1] / "shared"  # the apps the tests run
APP = HERE / "http_app.py"
VERBS = [
    "list",
    "status",
    "history",
    "raise-event",
    "suspend",
    "resume",
    "terminate",
    "purge",
    "rerun",
    "run",
    "replay",
    "serve",
]

#: Seed 000's command line, verbatim.
SEED_COMMAND = """diagrid workflow raise-event --app-id my-workflow-app \\
--instance-id <id> --event-name human_approval --event-data '{"approved": true}'"""


def wfkit_command() -> list[str]:
    """The installed ``wfkit`` script next to this Python, else ``python -m wfkit.cli``."""
    script = Path(sys.executable).with_name("wfkit")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "wfkit.cli"]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WFKIT_", "DAPR_API"))}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


@pytest.fixture(autouse=True)
def _no_wfkit_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WFKIT_URL", "WFKIT_DB", "WFKIT_TOKEN", "DAPR_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def calls(wfr: wf.WorkflowRuntime) -> list[Any]:
    return build(wfr)


@pytest.fixture
def server(wfr: wf.WorkflowRuntime, calls: list[Any]) -> Iterator[Any]:
    with wfr.serve_http() as srv:
        yield srv


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``wfkit ARGS`` in this process: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def wait_for_event(wfr: wf.WorkflowRuntime, instance_id: str, name: str) -> None:
    until(lambda: wfr._engine.waiting_for_events(instance_id) == [name])


# ------------------------------------------------------------------ the seed's command line
def test_the_seeds_raise_event_command_completes_a_waiting_instance(wfr, server, calls):
    client = wf.DaprWorkflowClient(wfr)
    instance_id = client.schedule_new_workflow("request_escalation", input={"amount": 5000})
    wait_for_event(wfr, instance_id, "human_approval")

    command = SEED_COMMAND.replace("diagrid workflow", "wfkit").replace("<id>", instance_id)
    wfkit = " ".join(wfkit_command())
    result = subprocess.run(
        command.replace("wfkit", wfkit, 1),
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(WFKIT_URL=server.url),
    )
    assert result.returncode == 0, result.stderr
    assert "human_approval" in result.stdout

    state = complete(client, instance_id)
    assert state.runtime_status is wf.WorkflowStatus.COMPLETED
    assert ("process_approval_activity", {"approved": True}) in calls
    assert all(name != "handle_timeout_activity" for name, _ in calls)
    assert wfr.clock.now() == datetime(2025, 1, 1)  # the 7-day timeout never fired


def test_raise_event_with_url_and_a_positional_instance_id(wfr, server, calls):
    client = wf.DaprWorkflowClient(wfr)
    instance_id = client.schedule_new_workflow("request_escalation", input={"amount": 2000})
    wait_for_event(wfr, instance_id, "human_approval")
    result = subprocess.run(
        [
            *wfkit_command(),
            "raise-event",
            instance_id,
            "--event-name",
            "human_approval",
            "--event-data",
            '{"approved": false}',
            "--url",
            server.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
    )
    assert result.returncode == 0, result.stderr
    assert complete(client, instance_id).runtime_status is wf.WorkflowStatus.COMPLETED
    assert ("process_approval_activity", {"approved": False}) in calls


# ------------------------------------------------------------------ help
@pytest.mark.parametrize("verb", VERBS)
def test_help_on_every_verb(cli, verb):
    code, out, _err = cli(verb, "--help")
    assert code == 0
    assert out.startswith(f"usage: wfkit {verb}")


def test_top_level_help_and_version(cli):
    code, out, _err = cli("--help")
    assert code == 0
    for verb in VERBS:
        assert verb in out
    code, out, _err = cli("--version")
    assert (code, out.strip()) == (0, f"wfkit {wf.__version__}")


def test_the_console_script_and_the_module_run(server):
    for command in (wfkit_command(), [sys.executable, "-m", "wfkit.cli"]):
        result = subprocess.run(
            [*command, "list", "--url", server.url],
            capture_output=True,
            text=True,
            timeout=60,
            env=child_env(),
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[:3] == ["NAME", "ID", "STATUS"]


# ------------------------------------------------------------------ every verb, over --url
@pytest.fixture
def instances(wfr, server):
    """Two finished instances and one waiting for an event."""
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("echo", input=1, instance_id="done-1")
    client.schedule_new_workflow("echo", input=2, instance_id="done-2")
    client.schedule_new_workflow("waiter", instance_id="waiting")
    complete(client, "done-1")
    complete(client, "done-2")
    wait_for_event(wfr, "waiting", "go")
    return client


def test_list_in_every_format_with_filters(cli, server, instances):
    code, out, _err = cli("list", "--url", server.url)
    assert code == 0
    lines = out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["NAME", "ID", "STATUS", "CUSTOM STATUS", "AGE"]
    assert [line.split()[1] for line in lines[1:]] == ["done-1", "done-2", "waiting"]

    code, out, _err = cli("list", "--url", server.url, "-o", "wide")
    assert re.split(r"\s{2,}", out.splitlines()[0]) == [
        "NAME",
        "INSTANCE ID",
        "CREATED",
        "LAST UPDATE",
        "STATUS",
        "CUSTOM STATUS",
        "FAILURE MESSAGE",
    ]

    code, out, _err = cli("list", "--url", server.url, "-o", "json")
    records = json.loads(out)
    assert [r["instanceID"] for r in records] == ["done-1", "done-2", "waiting"]
    assert records[0]["name"] == "echo" and records[0]["runtimeStatus"] == "COMPLETED"
    assert records[0]["created"] == "2025-01-01T00:00:00Z"

    yaml = pytest.importorskip("yaml")
    code, out, _err = cli("list", "--url", server.url, "-o", "yaml")
    assert code == 0 and yaml.safe_load(out) == records

    code, out, _err = cli("list", "--url", server.url, "--name", "echo", "-o", "json")
    assert [r["instanceID"] for r in json.loads(out)] == ["done-1", "done-2"]
    code, out, _err = cli("list", "--url", server.url, "-s", "running", "-o", "json")
    assert [r["instanceID"] for r in json.loads(out)] == ["waiting"]
    code, out, _err = cli("list", "--url", server.url, "--filter-status", "FAILED")
    assert code == 0 and len(out.splitlines()) == 1  # the header only


def test_status_and_history(cli, server, instances):
    code, out, _err = cli("status", "done-1", "--url", server.url)
    state = json.loads(out)
    assert state["runtimeStatus"] == "COMPLETED"
    assert state["properties"]["dapr.workflow.output"] == "1"

    code, out, _err = cli("history", "--instance-id", "done-1", "--url", server.url)
    assert code == 0
    lines = out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "TYPE",
        "NAME",
        "EVENTID",
        "ELAPSED",
        "STATUS",
        "DETAILS",
    ]
    assert lines[-1].split()[0] == "ExecutionCompleted"
    assert "COMPLETED" in lines[-1]

    code, out, _err = cli("history", "done-1", "--url", server.url, "-o", "json")
    rows = json.loads(out)
    assert [r["type"] for r in rows] == [
        "WorkflowStarted",
        "ExecutionStarted",
        "ExecutionCompleted",
    ]
    assert rows[1]["name"] == "echo" and rows[1]["details"] == "orchestration start"
    assert rows[0]["elapsed"].startswith("Age:")

    code, out, _err = cli("history", "done-1", "--url", server.url, "-o", "wide")
    assert out.split()[:2] == ["SEQ", "TYPE"] and "ATTRS" in out.splitlines()[0]


def test_history_shows_elapsed_virtual_time_and_details(cli, wfr, server):
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("OrderProcessingWorkflow", input={"n": 1}, instance_id="o")
    complete(client, "o")
    code, out, _err = cli("history", "o", "--url", server.url, "-o", "json")
    assert code == 0
    rows = json.loads(out)
    timer = next(r for r in rows if r["type"] == "TimerCreated")
    assert timer["eventId"] == 1 and timer["details"] == "fireAt=2025-01-02T12:00:00Z"
    fired = next(r for r in rows if r["type"] == "TimerFired")
    previous = rows[rows.index(fired) - 1]
    assert previous["elapsed"] == "1d12h"  # the episode the timer opened, 36 h later
    scheduled = next(r for r in rows if r["type"] == "TaskScheduled")
    assert scheduled["details"] == "activity=process_order"
    assert scheduled["attrs"] == 'input={"n":1}'
    assert rows[-1]["details"] == "execDuration=1d12h"


def test_suspend_resume_terminate_and_purge(cli, wfr, server, instances):
    code, out, _err = cli("suspend", "waiting", "--url", server.url)
    assert code == 0 and "suspended" in out
    assert instances.get_workflow_state("waiting").runtime_status.name == "SUSPENDED"
    code, out, _err = cli("resume", "--instance-id", "waiting", "--url", server.url)
    assert code == 0 and "resumed" in out
    assert instances.get_workflow_state("waiting").runtime_status.name == "RUNNING"
    code, out, _err = cli("terminate", "waiting", "--output", '"stop"', "--url", server.url)
    assert code == 0 and "terminated" in out
    state = instances.get_workflow_state("waiting")
    assert state.runtime_status.name == "TERMINATED"
    assert state.serialized_output == '"stop"'
    code, out, _err = cli("purge", "waiting", "done-1", "--url", server.url)
    assert code == 0 and out.count("purged") == 2
    assert instances.get_workflow_state("waiting") is None
    code, out, _err = cli("purge", "--all", "--url", server.url)
    assert code == 0 and "1 finished instance(s) purged" in out
    assert instances.get_workflow_state("done-2") is None


def test_raise_event_without_data(cli, wfr, server, instances):
    code, _out, err = cli("raise-event", "waiting", "-e", "go", "--url", server.url)
    assert code == 0, err
    assert complete(instances, "waiting").serialized_output is None


def test_rerun_from_an_event(cli, wfr, server, calls):
    client = wf.DaprWorkflowClient(wfr)
    client.schedule_new_workflow("request_escalation", input={"amount": 5}, instance_id="r")
    complete(client, "r")
    scheduled = [e.event_id for e in client.get_workflow_history("r") if e.event_id >= 0]
    code, out, err = cli(
        "rerun",
        "r",
        "--event-id",
        str(scheduled[0]),
        "--new-instance-id",
        "r2",
        "--input",
        '{"amount": 7}',
        "--url",
        server.url,
    )
    assert code == 0, err
    assert "'r2'" in out
    assert complete(client, "r2").runtime_status.name == "COMPLETED"
    assert ("auto_approve_activity", {"amount": 7}) in calls


def test_run_starts_a_workflow_in_a_served_runtime(cli, wfr, server):
    code, out, err = cli("run", "echo", "--input", '{"a": 1}', "--url", server.url, "-i", "e1")
    assert code == 0, err
    assert "'e1'" in out
    code, out, err = cli(
        "run", "OrderProcessingWorkflow", "--input", "{}", "--url", server.url, "--wait"
    )
    assert code == 0, err
    state = json.loads(out)
    assert state["runtimeStatus"] == "COMPLETED"
    assert json.loads(state["properties"]["dapr.workflow.output"]) == {"Processed": True}
    code, out, err = cli("run", "failing", "--url", server.url, "--wait")
    assert code == 1 and json.loads(out)["runtimeStatus"] == "FAILED"


def test_a_token_protected_server(cli, wfr, calls, monkeypatch):
    with wfr.serve_http(token="s3cret") as srv:
        code, _out, err = cli("list", "--url", srv.url)
        assert code == 1 and "--token" in err
        assert cli("list", "--url", srv.url, "--token", "s3cret")[0] == 0
        monkeypatch.setenv("WFKIT_TOKEN", "s3cret")
        assert cli("list", "--url", srv.url)[0] == 0
        monkeypatch.delenv("WFKIT_TOKEN")
        monkeypatch.setenv("DAPR_API_TOKEN", "s3cret")
        assert cli("list", "--url", srv.url)[0] == 0


def test_the_url_comes_from_the_environment(cli, server, instances, monkeypatch):
    monkeypatch.setenv("WFKIT_URL", server.url)
    code, out, _err = cli("list", "-o", "json")
    assert code == 0 and len(json.loads(out)) == 3


# ------------------------------------------------------------------ run, serve, replay
def test_run_a_file_headless(cli):
    code, out, err = cli("run", f"{APP}:request_escalation", "--input", '{"amount": 5000}')
    assert code == 0, err
    assert "COMPLETED (virtual time 7d" in out  # the approval timed out, fast-forwarded
    assert "handle_timeout_activity" in out

    code, out, err = cli(
        "run",
        f"{APP}:request_escalation",
        "--input",
        '{"amount": 5000}',
        "--event",
        'human_approval={"approved": true}',
        "-o",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["instance"]["runtimeStatus"] == "COMPLETED"
    assert "process_approval_activity" in [r["name"] for r in result["history"]]

    code, out, err = cli("run", f"{APP}:failing")
    assert code == 1
    assert "FAILED" in out and "Failure: ValueError: this workflow always fails" in out


def test_run_a_module_by_name_and_a_function_by_its_name(cli, tmp_path, monkeypatch):
    # tests/shared is on sys.path: http_app imports as a module
    code, out, err = cli("run", "http_app:OrderProcessingWorkflow", "--input", "{}")
    assert code == 0, err
    assert "'OrderProcessingWorkflow'" in out and "COMPLETED (virtual time 1d12h" in out
    # a workflow registered under another name is found by its function's name too
    (tmp_path / "named_app.py").write_text(
        textwrap.dedent(
            """
            import wfkit as wf

            wfr = wf.WorkflowRuntime()

            @wfr.workflow(name="Nice Name")
            def ugly_name(ctx, x):
                return x
                yield
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("run", "named_app:ugly_name", "--input", '"hi"')
    assert code == 0, err
    assert "'Nice Name'" in out and 'Output: "hi"' in out


def test_run_a_file_without_a_runtime(cli, tmp_path):
    app = tmp_path / "bare.py"
    app.write_text(
        textwrap.dedent(
            """
            from datetime import timedelta

            def double(ctx, x):
                return 2 * x

            def child(ctx, x):
                return (yield ctx.call_activity(double, input=x))

            def main_flow(ctx, x):
                yield ctx.create_timer(timedelta(days=30))
                return (yield ctx.call_child_workflow(child, input=x)) + 1
            """
        )
    )
    code, out, err = cli("run", f"{app}:main_flow", "--input", "20", "-o", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["instance"]["properties"]["dapr.workflow.output"] == "41"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_serve_a_file_and_use_the_seeds_curl_commands(tmp_path):
    process = subprocess.Popen(
        # polls that wait let auto-skip fire the seed's 36 h timer
        [*wfkit_command(), "serve", str(APP), "--port", "0", "--poll-wait", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+)", line)
        assert match, line + process.stderr.read()
        url = match.group(1)
        start = (
            f"curl -s -X POST {url}/v1.0-beta1/workflows/dapr/OrderProcessingWorkflow/start"
            '?instanceID=12345678 -d \'{"Name":"Paperclips","Quantity":1,"TotalCost":9.95}\''
        )
        out = subprocess.run(
            start, shell=True, capture_output=True, text=True, timeout=WAIT, env=child_env()
        )
        assert json.loads(out.stdout) == {"instanceID": "12345678"}
        for _ in range(50):
            out = subprocess.run(
                f"curl -s {url}/v1.0-beta1/workflows/dapr/12345678",
                shell=True,
                capture_output=True,
                text=True,
                timeout=WAIT,
                env=child_env(),
            )
            if json.loads(out.stdout)["runtimeStatus"] == "COMPLETED":
                break
        assert json.loads(out.stdout)["runtimeStatus"] == "COMPLETED"
        listed = subprocess.run(
            [*wfkit_command(), "list", "--url", url, "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=child_env(),
        )
        assert [r["instanceID"] for r in json.loads(listed.stdout)] == ["12345678"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=WAIT) == 0
        process.stdout.close()
        process.stderr.close()


def test_replay_checks_saved_histories_against_code(cli, wfr, calls, tmp_path):
    timetravel = pytest.importorskip("wfkit.timetravel")
    client = wf.DaprWorkflowClient(wfr)
    folder = tmp_path / "histories"
    folder.mkdir()
    for instance_id, amount in (("small", 5), ("big", 5000)):
        client.schedule_new_workflow(
            "request_escalation", input={"amount": amount}, instance_id=instance_id
        )
        complete(client, instance_id)
        timetravel.save_history(wfr, instance_id, folder)
    code, out, err = cli("replay", folder, "--app", APP)
    assert code == 0, err
    assert "2 replay, 0 do not" in out

    changed = tmp_path / "changed.py"
    changed.write_text(
        textwrap.dedent(
            """
            import wfkit as wf

            wfr = wf.WorkflowRuntime()

            @wfr.activity(name="notify")
            def notify(ctx, order):
                return None

            @wfr.activity(name="auto_approve_activity")
            def auto_approve_activity(ctx, order):
                return None

            @wfr.workflow(name="request_escalation")
            def request_escalation(ctx, order):
                yield ctx.call_activity(notify, input=order)  # a step inserted
                yield ctx.call_activity(auto_approve_activity, input=order)
            """
        )
    )
    code, out, _err = cli("replay", folder, "--app", changed)
    assert code == 1
    assert out.count("DIVERGED") == 2 and "call_activity('notify')" in out
    code, out, _err = cli("replay", folder, "--app", changed, "-o", "json")
    assert code == 1 and [r["ok"] for r in json.loads(out)] == [False, False]


# ------------------------------------------------------------------ --db
HOLDER = """
import sys, time
import wfkit as wf
from http_workflows import build

wfr = wf.WorkflowRuntime(store=sys.argv[1])
build(wfr)
wfr.start()
client = wf.DaprWorkflowClient(wfr)
client.schedule_new_workflow("echo", input="hello", instance_id="done")
client.wait_for_workflow_completion("done", timeout_in_seconds=30)
client.schedule_new_workflow("waiter", instance_id="waiting")
wfr.clock.advance(__import__("datetime").timedelta(0))
print("ready", flush=True)
sys.stdin.readline()  # hold the file until told
wfr.shutdown()
"""


@pytest.fixture
def held_store(tmp_path: Path) -> Iterator[Path]:
    """A store file another process holds open for writing, until the test ends."""
    pytest.importorskip("duckdb", reason="the DuckDB store needs duckdb")
    path = tmp_path / "runs.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        yield path
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()
        holder.stderr.close()


def test_db_reads_work_while_another_process_writes_the_file(cli, held_store):
    code, out, err = cli("list", "--db", held_store, "-o", "json")
    assert code == 0, err
    assert [(r["instanceID"], r["runtimeStatus"]) for r in json.loads(out)] == [
        ("done", "COMPLETED"),
        ("waiting", "RUNNING"),
    ]
    code, out, err = cli("history", "done", "--db", held_store)
    assert code == 0, err
    assert out.splitlines()[-1].startswith("ExecutionCompleted")
    code, out, err = cli("status", "done", "--db", held_store)
    assert json.loads(out)["properties"]["dapr.workflow.output"] == '"hello"'


def test_db_writes_on_a_held_file_point_to_url(cli, held_store):
    for argv in (
        ("purge", "done"),
        ("raise-event", "waiting", "--event-name", "go"),
        ("terminate", "waiting"),
    ):
        code, _out, err = cli(*argv, "--db", held_store)
        assert code == 1, argv
        assert "open for writing in another process" in err and "--url" in err


def test_db_on_a_free_file(cli, tmp_path):
    pytest.importorskip("duckdb", reason="the DuckDB store needs duckdb")
    path = tmp_path / "free.duckdb"
    runtime = wf.WorkflowRuntime(store=path)
    build(runtime)
    runtime.start()
    client = wf.DaprWorkflowClient(runtime)
    client.schedule_new_workflow("echo", input=1, instance_id="done")
    complete(client, "done")
    client.schedule_new_workflow("waiter", instance_id="waiting")
    wait_for_event(runtime, "waiting", "go")
    runtime.shutdown()  # closes the file

    code, out, _err = cli("raise-event", "waiting", "-e", "go", "--db", path)
    assert code == 1 and "needs the workflow code running" in _err and "--url" in _err
    code, _out, err = cli("purge", "waiting", "--db", path)
    assert code == 1 and "it is RUNNING" in err
    code, out, err = cli("purge", "done", "--db", path)
    assert code == 0, err
    code, out, _err = cli("list", "--db", path, "-o", "json")
    assert [r["instanceID"] for r in json.loads(out)] == ["waiting"]


# ------------------------------------------------------------------ misuse
MISUSE = [
    # (argv, exit code, a fragment of the message)
    ((), 2, "usage: wfkit"),
    (("fly",), 2, "invalid choice"),
    (("list", "--output", "xml"), 2, "invalid choice"),
    (("list", "--status", "NAPPING"), 2, "unknown status"),
    (("list", "--url", "U", "--db", "D"), 2, "not both"),
    (("list", "--url", "ftp://x"), 2, "http(s) URL"),
    (("list", "--url", "http://127.0.0.1:99999"), 2, "bad port"),
    (("list", "--url", "http://127.0.0.1:1"), 1, "cannot reach"),
    (("list", "--db", "/nonexistent/runs.duckdb"), 2, "no store file"),
    (("status", "--url", "{url}"), 2, "which instance?"),
    (("status", "nope", "--url", "{url}"), 1, "no workflow instance with id 'nope'"),
    (("history", "nope", "--url", "{url}"), 1, "no workflow instance"),
    (("history", "a", "--instance-id", "b", "--url", "{url}"), 2, "two instance ids"),
    (("raise-event", "x", "--url", "{url}"), 2, "--event-name"),
    (("raise-event", "x", "-e", "", "--url", "{url}"), 2, "must not be empty"),
    (
        ("raise-event", "x", "-e", "go", "--event-data", "{bad", "--url", "{url}"),
        2,
        "not valid JSON",
    ),
    (("raise-event", "x", "-e", "go", "--event-data", "yes", "--url", "{url}"), 2, "JSON quotes"),
    (("raise-event", "nope", "-e", "go", "--url", "{url}"), 1, "ERR_INSTANCE_ID_NOT_FOUND"),
    (("suspend", "--url", "{url}"), 2, "which instance?"),
    (("resume", "nope", "--url", "{url}"), 1, "no workflow instance"),
    (("terminate", "nope", "--output", "{", "--url", "{url}"), 2, "--output is not valid JSON"),
    (("terminate", "nope", "--url", "{url}"), 1, "no workflow instance"),
    (("purge", "--url", "{url}"), 2, "which instances?"),
    (("purge", "a", "--all", "--url", "{url}"), 2, "not both"),
    (("purge", "nope", "--url", "{url}"), 1, "no workflow instance"),
    (("rerun", "x", "--url", "{url}"), 2, "--event-id"),
    (("rerun", "x", "--event-id", "one", "--url", "{url}"), 2, "invalid int value"),
    (("rerun", "x", "--event-id", "-1", "--url", "{url}"), 2, "must be >= 0"),
    (("rerun", "nope", "--event-id", "1", "--url", "{url}"), 1, "no workflow instance"),
    (("rerun", "x", "--event-id", "1", "--input", "{", "--url", "{url}"), 2, "not valid JSON"),
    (("run",), 2, "FILE_OR_MODULE:WORKFLOW"),
    (("run", "nope", "--url", "{url}"), 1, "ERR_WORKFLOW_NOT_FOUND"),
    (("run", "echo", "--db", "{app}"), 2, "cannot run workflows"),
    (("run", "echo", "--event", "go", "--url", "{url}"), 2, "--event works with"),
    (("run", "{app}:echo", "--url", "{url}"), 2, "runs the code here"),
    (("run", "/nonexistent/app.py:flow"), 2, "no such file"),
    (("run", "no_such_module_anywhere:flow"), 2, "no module named"),
    (("run", "{app}:nope"), 2, "has no workflow 'nope'"),
    (("run", ":flow"), 2, "does not name a workflow"),
    (("run", "{app}:echo", "--input", "{"), 2, "--input is not valid JSON"),
    (("run", "{app}:echo", "--event", "=1"), 2, "--event takes NAME"),
    (("run", "{app}:echo", "--timeout", "-1"), 2, "--timeout must be"),
    (("run", "{broken}:flow"), 1, "importing"),
    (("run", "{empty}:flow"), 2, "has no workflow 'flow'"),
    (("run", "{app}:waiter", "--timeout", "0.5"), 1, "--event NAME=JSON"),
    (("replay", "/nonexistent", "--app", "{app}"), 2, "no such folder"),
    (("replay", "{tmp}", "--app", "{app}"), 1, "no histories"),
    (("replay", "{tmp}"), 2, "--app"),
    (("serve", "{empty}"), 2, "defines no WorkflowRuntime"),
    (("serve", "{app}", "--host", "0.0.0.0"), 2, "allow_remote"),
    (("serve", "{app}", "--port", "{port}"), 1, "Pick another port"),
    (("list", "--url", "http://[::1"), 2, "--url is not a valid URL"),
    (("status", "x", "--url", "http://[::1:3500/"), 2, "--url is not a valid URL"),
    (("run", "{app}"), 2, "write FILE:WORKFLOW"),
    (("run", "app.py"), 2, "write FILE:WORKFLOW"),
    (("run", "{tmp}/flows.py", "--url", "{url}"), 2, "write FILE:WORKFLOW"),
    (
        ("raise-event", "x", "-e", "go", "--event-data", "NaN", "--url", "{url}"),
        2,
        "NaN is not JSON",
    ),
    (
        ("raise-event", "x", "-e", "go", "--event-data", "[Infinity]", "--url", "{url}"),
        2,
        "not JSON",
    ),
    (("terminate", "x", "--output=-Infinity", "--url", "{url}"), 2, "not JSON"),
    (("run", "{app}:echo", "--input", "NaN"), 2, "--input is not valid JSON"),
    (
        ("raise-event", "x", "-e", "go", "--event-data", "[" * 100000, "--url", "{url}"),
        2,
        "not valid JSON",
    ),
    (("list", "--db", "{empty}"), 2, "not a wfkit store"),
    (("history", "x", "--db", "{empty}"), 2, "not a wfkit store"),
]


@pytest.mark.parametrize(("argv", "code", "fragment"), MISUSE, ids=lambda v: str(v)[:60])
def test_every_misuse_gets_a_clear_message_and_a_non_zero_exit(
    cli, server, tmp_path, argv, code, fragment
):
    broken = tmp_path / "broken.py"
    broken.write_text("import wfkit\n1 / 0\n")
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    values = {
        "url": server.url,
        "app": str(APP),
        "broken": str(broken),
        "empty": str(empty),
        "tmp": str(tmp_path),
        "port": str(server.port),
    }
    args = []
    for arg in argv:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", value)
        args.append(arg)
    got, out, err = cli(*args)
    assert got == code, (out, err)
    assert fragment in err, err
    assert "Traceback" not in err
    if code == 1 or err.startswith("wfkit: error: "):
        assert err.count("\n") == 1, err  # one line


# ------------------------------------------------------------------ output helpers
def test_humanize():
    from datetime import timedelta

    assert humanize(None) == "-"
    assert humanize(timedelta(0)) == "0ms"
    assert humanize(timedelta(milliseconds=250)) == "250ms"
    assert humanize(timedelta(seconds=42)) == "42s"
    assert humanize(timedelta(minutes=5, seconds=3)) == "5m3s"
    assert humanize(timedelta(hours=3, minutes=20)) == "3h20m"
    assert humanize(timedelta(days=7)) == "7d"
    assert humanize(timedelta(days=2, hours=5, minutes=1)) == "2d5h"
    assert humanize(timedelta(seconds=-90)) == "-1m30s"


SCALARS = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
RECORDS = st.lists(
    st.dictionaries(st.text(min_size=1), SCALARS | st.dictionaries(st.text(), SCALARS))
)


@settings(max_examples=100, deadline=None)
@given(RECORDS)
def test_the_yaml_emitter_round_trips(records):
    yaml = pytest.importorskip("yaml")
    assert yaml.safe_load(to_yaml(records)) == records


def test_replay_reports_every_bad_file_of_a_folder_and_goes_on(cli, wfr, calls, tmp_path):
    timetravel = pytest.importorskip("wfkit.timetravel")
    client = wf.DaprWorkflowClient(wfr)
    folder = tmp_path / "histories"
    (folder / "sub").mkdir(parents=True)
    client.schedule_new_workflow("request_escalation", input={"amount": 5}, instance_id="good")
    complete(client, "good")
    timetravel.save_history(wfr, "good", folder / "good.json")
    bad = {
        "broken.json": b"{bad",
        "binary.json": bytes(range(256)),
        "empty.json": b"",
        "nested.json": b"[" * 100_000,
        "a-list.json": b"[1, 2]",
        "null.json": b"null",
        "sub/not-history.json": b'{"events": 5}',
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    (folder / "a-folder.json").mkdir()
    code, out, err = cli("replay", folder, "--app", APP)
    assert code == 1, err
    lines = out.splitlines()
    for name in bad:
        assert any(line.startswith("ERROR") and line.find(name) > 0 for line in lines), name
    assert any(line.startswith("ok") and "good.json" in line for line in lines)
    assert f"{len(bad) + 1} history(ies) checked" in out and "1 replay" in out


NOISY = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\r"
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


def test_escape_sequences_in_payloads_never_reach_the_terminal(cli, tmp_path):
    runtime = wf.WorkflowRuntime(store=tmp_path / "noisy.duckdb")

    @runtime.workflow(name="noisy")
    def noisy(ctx: wf.DaprWorkflowContext, text: str):  # type: ignore[no-untyped-def]
        ctx.set_custom_status(text)
        yield ctx.create_timer(timedelta(seconds=1))
        raise ValueError(text)

    runtime.start()
    client = wf.DaprWorkflowClient(runtime)
    client.schedule_new_workflow(noisy, input=NOISY, instance_id="n1")
    complete(client, "n1")
    with runtime.serve_http() as srv:
        outputs = [cli(verb, *args, "--url", srv.url) for verb, args in VIEWS]
    runtime.shutdown()
    outputs += [cli(verb, *args, "--db", tmp_path / "noisy.duckdb") for verb, args in VIEWS]
    for code, out, err in outputs:
        assert code == 0, err
        assert not RAW_CONTROL.search(out), out
        assert "owned" in out  # the text is shown, its control characters escaped
    tables = [out for (_v, args), (_c, out, _e) in zip(VIEWS * 2, outputs, strict=True) if not args]
    assert len(tables) == 2 and all("\\x1b]0;owned\\x07" in out for out in tables)


VIEWS = [
    ("list", ()),
    ("list", ("-o", "wide")),
    ("list", ("-o", "json")),
    ("list", ("-o", "yaml")),
    ("status", ("n1",)),
    ("history", ("n1", "-o", "wide")),
    ("history", ("n1", "-o", "json")),
]
