"""The steps a Dapr example README declares for mechanical-markdown, read at test time:
``<!-- STEP ... -->`` (YAML: ``expected_stdout_lines``, ``match_order``,
``output_match_mode``, ``background``, ``timeout_seconds``, ``working_dir``), the shell
block that follows, ``<!-- END_STEP -->``."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

_STEP = re.compile(r"<!--\s*STEP\b(.*?)-->(.*?)<!--\s*END_STEP\s*-->", re.S)
_CODE = re.compile(r"```[a-z]*\n(.*?)```", re.S)


@dataclass(frozen=True)
class Command:
    """One program ``dapr run`` starts (or several, from a ``-f`` run file)."""

    argv: list[str]
    cwd: Path
    app_id: str
    env: dict[str, str] = field(default_factory=dict)
    http_port: str | None = None
    #: The port the app serves on; ``dapr run`` reports the app started once it answers.
    app_port: int | None = None
    #: Started with ``&``: it runs beside the step's foreground program and ends with it.
    detached: bool = False
    #: Which line of the shell block started it (a run file's apps share one).
    line: int = 0


@dataclass(frozen=True)
class Step:
    readme: Path
    index: int
    name: str
    expected: list[str]
    ordered: bool
    substring: bool
    background: bool
    timeout: float
    commands: list[Command]

    @property
    def id(self) -> str:
        return f"{self.readme.parent.name}/{self.index}-{self.name}"


def read_steps(readme: Path) -> list[Step]:
    """The README's steps that declare expected output and run a program."""
    steps = []
    for index, match in enumerate(_STEP.finditer(readme.read_text()), 1):
        header = yaml.safe_load(_dedent(match.group(1))) or {}
        expected = [str(line) for line in header.get("expected_stdout_lines") or []]
        code = "\n".join(_CODE.findall(_dedent(match.group(2))))
        cwd = (readme.parent / header.get("working_dir", ".")).resolve()
        commands = _commands(code, cwd)
        if not expected or not commands:
            continue
        steps.append(
            Step(
                readme=readme,
                index=index,
                name=str(header.get("name", "step")),
                expected=expected,
                ordered=header.get("match_order", "sequential") != "none",
                substring=header.get("output_match_mode", "exact") == "substring",
                background=bool(header.get("background", False)),
                timeout=float(header.get("timeout_seconds", 120)),
                commands=commands,
            )
        )
    return steps


def _dedent(text: str) -> str:
    lines = text.splitlines()
    indents = [len(x) - len(x.lstrip()) for x in lines if x.strip()]
    cut = min(indents, default=0)
    return "\n".join(x[cut:] for x in lines)


def _commands(code: str, cwd: Path) -> list[Command]:
    env: dict[str, str] = {}
    commands: list[Command] = []
    for number, raw in enumerate(code.splitlines()):
        detached = raw.strip().endswith("&")
        line = raw.strip().rstrip("&").strip()
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key.strip()] = value.strip().strip("'\"")
        elif line.startswith("cd "):
            cwd = (cwd / line[3:].strip()).resolve()
        elif line.startswith("dapr run"):
            found = _dapr_run(shlex.split(line)[2:], cwd, dict(env))
            commands += [replace(c, detached=detached, line=number) for c in found]
    return commands


def _dapr_run(args: list[str], cwd: Path, env: dict[str, str]) -> list[Command]:
    """``dapr run``'s programs: ``-f DIR`` reads the run file; ``--app-id X -- cmd``
    runs cmd; a run with no command starts only a sidecar, which wfkit does not need."""
    if "-f" in args:
        return _run_file(cwd / args[args.index("-f") + 1], env)
    if "--" not in args:
        return []
    flags, argv = args[: args.index("--")], args[args.index("--") + 1 :]
    app_id = flags[flags.index("--app-id") + 1] if "--app-id" in flags else "app"
    return [Command(argv, cwd, app_id, env)]


def _run_file(folder: Path, env: dict[str, str]) -> list[Command]:
    spec = yaml.safe_load((folder / "dapr.yaml").read_text())
    return [
        Command(
            list(app["command"]),
            (folder / app.get("appDirPath", ".")).resolve(),
            str(app["appID"]),
            env,
            str(app["daprHTTPPort"]) if app.get("daprHTTPPort") else None,
            int(app["appPort"]) if app.get("appPort") else None,
        )
        for app in spec.get("apps", [])
    ]


def missing_lines(step: Step, output: list[str]) -> list[str]:
    """Expected lines the output lacks (in order when the step says so), as
    mechanical-markdown matches them."""

    def hit(expected: str, line: str) -> bool:
        return expected in line if step.substring else expected == line.strip()

    missing: list[str] = []
    position = 0
    for expected in step.expected:
        searched = output[position:] if step.ordered else output
        found = next((i for i, line in enumerate(searched) if hit(expected, line)), None)
        if found is None:
            missing.append(expected)
        elif step.ordered:
            position += found + 1
    return missing
