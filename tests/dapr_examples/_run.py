"""Runs one README step: each program ``dapr run`` would start, as a subprocess with the
stand-in first on PYTHONPATH, its stdout and stderr merged (as ``dapr run`` shows an
app's logs), until the foreground programs end (or, for a background step, until the
expected lines have all appeared) or the step's timeout passes."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from _steps import Command, Step, missing_lines

STANDIN = Path(__file__).with_name("standin")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    output: list[str]
    missing: list[str]
    exit_codes: dict[str, int | None]
    seconds: float

    @property
    def failed_programs(self) -> dict[str, int | None]:
        return {name: code for name, code in self.exit_codes.items() if code not in (0, None)}


def _argv(command: Command) -> list[str]:
    first, *rest = command.argv
    return [sys.executable, *rest] if first in ("python", "python3") else command.argv


def _start(command: Command, output: list[str], lock: threading.Lock) -> subprocess.Popen[str]:
    env = {**os.environ, **command.env, "APP_ID": command.app_id}
    env["PYTHONPATH"] = os.pathsep.join([str(STANDIN), str(REPO), env.get("PYTHONPATH", "")])
    if command.http_port:
        env["DAPR_HTTP_PORT"] = command.http_port
    process = subprocess.Popen(
        _argv(command),
        cwd=command.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with lock:
                output.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=_announce, args=(command, process, output, lock), daemon=True).start()
    return process


def _announce(
    command: Command, process: subprocess.Popen[str], output: list[str], lock: threading.Lock
) -> None:
    """``dapr run``'s line for an app, once the app answers on its port (at once when it
    has none), as the stand-in for Dapr's sidecar is then serving it."""
    while command.app_port is not None and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", command.app_port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    if process.poll() is None:
        with lock:
            output.append(f'Started Dapr with app id "{command.app_id}"')


def _wait_until_announced(
    command: Command, output: list[str], lock: threading.Lock, deadline: float
) -> None:
    line = f'Started Dapr with app id "{command.app_id}"'
    while command.app_port is not None and time.monotonic() < deadline:
        with lock:
            if line in output:
                return
        time.sleep(0.1)


def _wait_for_exit(process: subprocess.Popen[str], deadline: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=max(0.0, deadline - time.monotonic()))


def run_step(step: Step) -> Outcome:
    output: list[str] = []
    lock = threading.Lock()
    began = time.monotonic()
    deadline = began + step.timeout
    processes: list[tuple[Command, subprocess.Popen[str]]] = []
    for command in step.commands:
        # the shell runs line after line: a foreground program ends before the next line
        for earlier, process in processes:
            if earlier.line != command.line and not (earlier.detached or step.background):
                _wait_for_exit(process, deadline)
        processes.append((command, _start(command, output, lock)))
        # apps of a run file start in order, as `dapr run -f`'s
        _wait_until_announced(command, output, lock, deadline)
    waited = [p for c, p in processes if not c.detached and not step.background]
    while time.monotonic() < deadline:
        with lock:
            done = not missing_lines(step, output)
        if waited and all(p.poll() is not None for p in waited):
            break
        if not waited and (done or all(p.poll() is not None for _, p in processes)):
            break
        time.sleep(0.1)
    time.sleep(0.5)  # let the readers take what was printed last
    codes: dict[str, int | None] = {}
    for command, process in processes:
        name = " ".join(command.argv)
        if process.poll() is None:
            process.kill()
            process.wait()
            # a server or a detached program is ended by the step (as dapr run's are);
            # a foreground program still running has overrun the step's timeout
            codes[name] = -1 if process in waited else None
        else:
            codes[name] = process.returncode
    with lock:
        lines = list(output)
    return Outcome(lines, missing_lines(step, lines), codes, time.monotonic() - began)
