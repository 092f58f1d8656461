"""Loading user code for ``wfkit run``, ``serve`` and ``replay``: a Python file or an
importable module, and the WorkflowRuntime it defines."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from wfkit.cli._errors import CliError
from wfkit.core._orchestration import registered_name
from wfkit.runtime._runtime import WorkflowRuntime


def split_target(target: str) -> tuple[str, str]:
    """``app.py:my_workflow`` -> (``app.py``, ``my_workflow``)."""
    source, sep, workflow = target.rpartition(":")
    if not sep or not source or not workflow:
        raise CliError(
            f"{target!r} does not name a workflow: write FILE_OR_MODULE:WORKFLOW, e.g. "
            "app.py:order_workflow or mypackage.flows:order_workflow",
            code=2,
        )
    return source, workflow


def load_module(source: str) -> ModuleType:
    """Import a ``.py`` file (by path) or a module (by dotted name, from the current
    directory or the installed packages)."""
    path = Path(source)
    try:
        if source.endswith(".py") or path.is_file():
            if not path.is_file():
                raise CliError(f"no such file: {source}", code=2)
            path = path.resolve()
            name = f"wfkit_user_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise CliError(f"cannot import {source}: not a Python file", code=2)
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, str(path.parent))  # its sibling modules import as usual
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        return importlib.import_module(source)
    except CliError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and source.startswith(exc.name):
            raise CliError(
                f"no module named {source!r}: pass a path to a .py file, or a module "
                "importable from the current directory",
                code=2,
            ) from None
        raise CliError(_import_failure(source, exc)) from None
    except SystemExit as exc:
        raise CliError(f"importing {source} called exit({exc.code})") from None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise CliError(_import_failure(source, exc)) from None


def _import_failure(source: str, exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {last.filename}:{last.lineno})"
    return f"importing {source} failed: {type(exc).__name__}: {exc}{where}"


def runtimes_of(module: ModuleType) -> list[WorkflowRuntime]:
    seen: list[WorkflowRuntime] = []
    for value in vars(module).values():
        if isinstance(value, WorkflowRuntime) and all(value is not s for s in seen):
            seen.append(value)
    return seen


def find_runtime(module: ModuleType, source: str) -> WorkflowRuntime:
    """The module's WorkflowRuntime (exactly one is expected)."""
    found = runtimes_of(module)
    if not found:
        raise CliError(
            f"{source} defines no WorkflowRuntime at module level: create one there "
            "(wfr = wf.WorkflowRuntime()) and register your workflows on it",
            code=2,
        )
    if len(found) > 1:
        with_workflows = [r for r in found if r.workflows]
        if len(with_workflows) == 1:
            return with_workflows[0]
        raise CliError(
            f"{source} defines {len(found)} WorkflowRuntimes; keep one at module level",
            code=2,
        )
    return found[0]


def _module_functions(module: ModuleType) -> list[Any]:
    return [
        value
        for value in vars(module).values()
        if inspect.isfunction(value) and value.__module__ == module.__name__
    ]


def runtime_for_workflow(
    module: ModuleType, source: str, workflow: str
) -> tuple[WorkflowRuntime, str]:
    """The runtime that has ``workflow`` registered (by registered name, or by the name of
    a function of the module), and the workflow's registered name.

    A module without a runtime gets a fresh one (virtual clock, store in memory) with the
    function registered as the workflow, the module's other generator functions as
    workflows (child workflows) and its other functions as activities.
    """
    runtimes = runtimes_of(module)
    for runtime in runtimes:
        if workflow in runtime.workflows:
            return runtime, workflow
    fn = getattr(module, workflow, None)
    if callable(fn):
        name = registered_name(fn)
        for runtime in runtimes:
            if name in runtime.workflows:
                return runtime, name
        if not runtimes:
            runtime = WorkflowRuntime()
            runtime.register_workflow(fn)
            for other in _module_functions(module):
                if other is fn:
                    continue
                if inspect.isgeneratorfunction(other):
                    runtime.register_workflow(other)
                else:
                    runtime.register_activity(other)
            return runtime, registered_name(fn)
    known = sorted({w for r in runtimes for w in r.workflows})
    raise CliError(
        f"{source} has no workflow {workflow!r} (registered: {', '.join(known) or 'none'})",
        code=2,
    )
