"""The workflow code a history is replayed with, and the code object of a function."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING, Any, cast

from wfkit.core._context import registered_name
from wfkit.core._orchestration import WorkflowInvoker
from wfkit.core._registry import Registered
from wfkit.runtime._seam import EngineView

if TYPE_CHECKING:
    from wfkit.inspect._histories import History


#: Workflow code as a caller gives it: a function, a registered name, or registered code.
WorkflowCode = str | WorkflowInvoker | Callable[..., Any]


def code_of(workflow: object) -> CodeType | None:
    """The code object of a workflow function (or of a registered workflow)."""
    fn = getattr(workflow, "fn", workflow)
    if callable(fn):
        with contextlib.suppress(ValueError):  # a wrapper loop
            fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    return code if isinstance(code, CodeType) else None


def resolve_workflow(
    workflow: WorkflowCode | None, engine: EngineView | None, history: History
) -> WorkflowInvoker:
    """The code to replay ``history`` with: ``workflow`` (a function, a registered name
    or a registered workflow), or the code the runtime runs the instance with."""
    if workflow is None:
        if engine is None:
            raise TypeError(
                "a history read from a file, a store or a list needs its workflow code: "
                "pass workflow=<the workflow function>"
            )
        name = history.workflow
        if name is None:
            raise ValueError(
                "the history has no ExecutionStarted event, so its workflow is unknown; "
                "pass workflow=<the workflow function>"
            )
        return engine.workflow_code(history.instance_id or "", name)
    if isinstance(workflow, str):
        if engine is None:
            raise TypeError(
                f"workflow={workflow!r} names a registered workflow, which needs a runtime; "
                "pass the function instead"
            )
        return engine.registry.workflow(workflow)
    if callable(getattr(workflow, "invoke", None)) and hasattr(workflow, "name"):
        return cast(WorkflowInvoker, workflow)
    if callable(workflow):
        name = history.workflow
        if name is None:
            name = registered_name(workflow)
        return Registered.of(workflow, name)
    raise TypeError(f"workflow must be a function or a registered name, not {workflow!r}")
