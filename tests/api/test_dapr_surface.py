"""Every name of Dapr 1.19's ``dapr.ext.workflow`` and ``dapr.ext.workflow.aio``, and
Dapr's module paths, compared with wfkit's by introspection (the rule of test_api:
each parameter Dapr has, wfkit has with the same name, kind and default)."""

from __future__ import annotations

import importlib
import inspect
import types
from typing import Any

import pytest
from test_api import incompatibilities, is_readable_attribute, needs_dapr

import wfkit
import wfkit.aio

try:
    import dapr.ext.workflow as dapr_wf
    import dapr.ext.workflow.aio as dapr_aio
except Exception:  # not installed, or a broken install
    dapr_wf = dapr_aio = None

#: (class, member) pairs left out, each with its reason.
NOT_COMPARED = {
    # the runtime builds these around its own objects; user code never constructs them
    ("DaprWorkflowContext", "__init__"): "built by the runtime",
    ("WorkflowActivityContext", "__init__"): "built by the runtime",
    ("WorkflowState", "__init__"): "built by the client",
    # compared in test_api with a default wfkit adds
    ("FailureDetails", "__init__"): "stack_trace may be left out in wfkit",
    # Dapr's wire format; wfkit stores propagated history as JSON (to_json/from_json)
    ("PropagatedHistory", "from_proto"): "protobuf only",
}


def dapr_members(cls: type) -> dict[str, Any]:
    """Public members (and __init__) that Dapr's classes define, base classes included."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("dapr.ext.workflow"):
            continue
        for name, value in vars(klass).items():
            if name == "__init__" or not name.startswith("_"):
                found[name] = value
    return found


def surface() -> list[tuple[str, str, str]]:
    """(package, name, member) for every callable or property Dapr exports."""
    if dapr_wf is None:
        return []
    rows = []
    for package, module in (("wfkit", dapr_wf), ("wfkit.aio", dapr_aio)):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                rows += [
                    (package, name, m) for m in dapr_members(obj) if (name, m) not in NOT_COMPARED
                ]
            else:
                rows.append((package, name, ""))
    return rows


def dapr_package(package: str) -> types.ModuleType:
    return dapr_wf if package == "wfkit" else dapr_aio


@needs_dapr
@pytest.mark.parametrize("package", ["wfkit", "wfkit.aio"])
def test_every_dapr_name_is_exported(package: str) -> None:
    module = importlib.import_module(package)
    missing = sorted(set(dapr_package(package).__all__) - set(module.__all__))
    assert not missing
    assert all(getattr(module, n, None) is not None for n in dapr_package(package).__all__)


@needs_dapr
@pytest.mark.parametrize(("package", "name", "member"), surface(), ids=lambda v: v or "-")
def test_member_matches_dapr(package: str, name: str, member: str) -> None:
    dapr_obj = getattr(dapr_package(package), name)
    wfkit_obj = getattr(importlib.import_module(package), name)
    if not member:
        if inspect.isclass(dapr_obj) and issubclass(dapr_obj, BaseException):
            assert issubclass(wfkit_obj, Exception)
        elif callable(dapr_obj):
            assert not incompatibilities(dapr_obj, wfkit_obj)
        else:
            assert type(wfkit_obj).__name__ == type(dapr_obj).__name__
        return
    dapr_attr = inspect.getattr_static(dapr_obj, member)
    assert inspect.getattr_static(wfkit_obj, member, None) is not None, f"{name}.{member} missing"
    if isinstance(dapr_attr, property):
        assert is_readable_attribute(wfkit_obj, member), f"{name}.{member} is not readable"
        return
    if isinstance(dapr_attr, type) or not callable(getattr(dapr_obj, member)):
        return
    dapr_fn, wfkit_fn = getattr(dapr_obj, member), getattr(wfkit_obj, member)
    problems = incompatibilities(dapr_fn, wfkit_fn)
    assert not problems, f"{name}.{member}: " + "; ".join(problems)
    # an async method stays async (awaited), a sync one sync
    assert inspect.iscoroutinefunction(wfkit_fn) == inspect.iscoroutinefunction(dapr_fn)
    assert inspect.isasyncgenfunction(wfkit_fn) == inspect.isasyncgenfunction(dapr_fn)


@needs_dapr
def test_members_left_out_exist_in_dapr() -> None:
    for name, member in NOT_COMPARED:
        assert member in dapr_members(getattr(dapr_wf, name)), (name, member)


@needs_dapr
def test_enums_and_dataclasses_match_dapr() -> None:
    assert [(m.name, m.value) for m in wfkit.PropagationScope] == [
        (m.name, m.value) for m in dapr_wf.PropagationScope
    ]
    import dataclasses

    for name in ("ActivityResult", "ChildWorkflowResult", "WorkflowResult", "MCPToolDef"):
        fields = [f.name for f in dataclasses.fields(getattr(wfkit, name))]
        assert fields == [f.name for f in dataclasses.fields(getattr(dapr_wf, name))], name


# --------------------------------------------------------------------------- module paths
#: Dapr's submodules that user code imports from. ``util`` (gRPC addresses) and
#: ``mcp_schema`` (pydantic models of Dapr's MCP workflows) have no use without a sidecar.
MODULES = [
    "dapr_workflow_client",
    "dapr_workflow_context",
    "workflow_context",
    "workflow_activity_context",
    "workflow_runtime",
    "workflow_state",
    "workflow_management",
    "retry_policy",
    "propagation",
    "mcp",
    "logger",
    "logger.logger",
    "logger.options",
    "aio",
    "aio.dapr_workflow_client",
    "aio.mcp",
]

#: Names in Dapr's modules that are Dapr's plumbing, not API: TypeVars of its
#: annotations and its gRPC address functions.
PLUMBING = {"T", "TInput", "TOutput", "get_grpc_channel_options", "getAddress"}


def dapr_module_names(module: types.ModuleType) -> list[str]:
    """The public names a Dapr module offers from Dapr's workflow package itself."""
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or name in PLUMBING or isinstance(value, types.ModuleType):
            continue
        origin = getattr(value, "__module__", "") or ""
        if origin.startswith("dapr.ext.workflow") or name in ("Workflow", "Activity"):
            names.append(name)
    return names


@needs_dapr
@pytest.mark.parametrize("path", MODULES)
def test_dapr_module_path_has_a_wfkit_alias(path: str) -> None:
    dapr_module = importlib.import_module(f"dapr.ext.workflow.{path}")
    wfkit_module = importlib.import_module(f"wfkit.{path}")
    names = dapr_module_names(dapr_module)
    assert names, path
    missing = [n for n in names if not hasattr(wfkit_module, n)]
    assert not missing, f"wfkit.{path} lacks {missing}"
    for name in names:
        value = getattr(wfkit_module, name)
        # the same object as the package exports, not a copy
        if name in wfkit.__all__ and path != "aio" and not path.startswith("aio."):
            assert value is getattr(wfkit, name), f"wfkit.{path}.{name}"
        if name in getattr(wfkit.aio, "__all__", ()) and path.startswith("aio"):
            assert value is getattr(wfkit.aio, name), f"wfkit.{path}.{name}"


def test_dapr_style_module_imports_work() -> None:
    from wfkit.dapr_workflow_context import DaprWorkflowContext, when_all
    from wfkit.workflow_context import WorkflowContext
    from wfkit.workflow_runtime import WorkflowRuntime

    assert WorkflowRuntime is wfkit.WorkflowRuntime
    assert when_all is wfkit.when_all
    ctx = DaprWorkflowContext("x")
    assert isinstance(ctx, WorkflowContext)


def test_module_aliases_keep_import_wfkit_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, wfkit; "
        "print(','.join(m for m in sys.modules if m.startswith('wfkit.') and "
        "m.split('.')[1] in ('aio', 'logger', 'workflow_runtime', 'propagation', 'mcp')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
