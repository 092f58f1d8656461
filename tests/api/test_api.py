"""The public API: wfkit's exported names, and Dapr's names, signatures and defaults.

A module written for ``dapr.ext.workflow`` must run on wfkit after changing only its
import line. The rule checked here for every public callable Dapr and wfkit share: each
parameter Dapr has, wfkit has with the same name, kind (positional or keyword-only) and
default, in the same order; wfkit may add keyword-only parameters of its own after them.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import wfkit
import wfkit as wf

try:
    import dapr.ext.workflow as dapr_wf
except Exception:  # not installed, or a broken install
    dapr_wf = None

needs_dapr = pytest.mark.skipif(
    dapr_wf is None,
    reason="dapr.ext.workflow is not importable; install the dev extra "
    "(pip install 'dapr[workflow]==1.19.0') to compare wfkit's API with Dapr's",
)

EXAMPLE = Path(__file__).parents[1] / "shared" / "dapr_module_example.py"
DAPR_IMPORT = "import dapr.ext.workflow as wf"
WFKIT_IMPORT = "import wfkit as wf"


# --------------------------------------------------------------------------- __all__
EXPECTED_ALL = [
    "UNSET",
    "ActivityNotRegisteredError",
    "ActivityResult",
    "ChildWorkflowResult",
    "Connection",
    "DaprMCPClient",
    "DaprWorkflowClient",
    "DaprWorkflowContext",
    "DuckDBStore",
    "EngineAddressError",
    "EngineError",
    "EngineUnavailableError",
    "FailureDetails",
    "InstanceExistsError",
    "InstanceNotFoundError",
    "InvalidArgumentError",
    "InvalidInstanceStateError",
    "MCPToolDef",
    "MemoryStore",
    "MissingDependencyError",
    "NonDeterminismError",
    "NonRetryableError",
    "PayloadTooLargeError",
    "PropagatedHistory",
    "PropagationNotFoundError",
    "PropagationScope",
    "RetryPolicy",
    "RuntimeNotStartedError",
    "RuntimeStoppedError",
    "SerializationError",
    "SidecarRequiredError",
    "StoreCorruptError",
    "StoreError",
    "StoreFormatError",
    "StoreLockedError",
    "StoreVersionError",
    "StoreWriteError",
    "SystemClock",
    "TaskFailedError",
    "UnknownHistoryEventError",
    "UnstorableTextError",
    "VersionNotRegisteredError",
    "VirtualClock",
    "WfkitError",
    "WfkitWarning",
    "WorkflowActivityContext",
    "WorkflowFailedError",
    "WorkflowHistoryEvent",
    "WorkflowHistoryEventType",
    "WorkflowInstanceIdPage",
    "WorkflowNotRegisteredError",
    "WorkflowResult",
    "WorkflowRuntime",
    "WorkflowState",
    "WorkflowStatus",
    "alternate_name",
    "connect",
    "when_all",
    "when_any",
]

#: The names a Dapr workflow module uses, which wfkit exports under the same names.
DAPR_NAMES = [
    "DaprWorkflowClient",
    "DaprWorkflowContext",
    "FailureDetails",
    "RetryPolicy",
    "TaskFailedError",
    "UNSET",
    "WorkflowActivityContext",
    "WorkflowHistoryEvent",
    "WorkflowHistoryEventType",
    "WorkflowInstanceIdPage",
    "WorkflowRuntime",
    "WorkflowState",
    "WorkflowStatus",
    "alternate_name",
    "when_all",
    "when_any",
]


def isort_style(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_all_is_pinned() -> None:
    assert wfkit.__all__ == EXPECTED_ALL


def test_all_is_sorted_and_unique() -> None:
    assert wfkit.__all__ == sorted(wfkit.__all__, key=isort_style)
    assert len(set(wfkit.__all__)) == len(wfkit.__all__)


def test_every_name_in_all_resolves() -> None:
    for name in wfkit.__all__:
        assert getattr(wfkit, name, None) is not None, name


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, Any] = {}
    exec("from wfkit import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(wfkit.__all__)


def test_dapr_names_are_exported() -> None:
    assert set(DAPR_NAMES) <= set(wfkit.__all__)


@needs_dapr
def test_dapr_names_exist_in_dapr() -> None:
    assert set(DAPR_NAMES) <= set(dapr_wf.__all__)


# --------------------------------------------------------------------------- signatures
def resolve(root: types.ModuleType | str, path: str) -> Any:
    obj: Any = importlib.import_module(root) if isinstance(root, str) else root
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def same_default(dapr_default: Any, wfkit_default: Any) -> bool:
    if dapr_default is wfkit_default:
        return True
    # Sentinels such as UNSET are separate objects in each package, alike in type and repr.
    if type(dapr_default).__name__ == type(wfkit_default).__name__ and repr(dapr_default) == repr(
        wfkit_default
    ):
        return True
    try:
        return bool(dapr_default == wfkit_default)
    except Exception:
        return False


def incompatibilities(
    dapr_fn: Callable[..., Any], wfkit_fn: Callable[..., Any], *, added_defaults: bool = False
) -> list[str]:
    """Where ``wfkit_fn`` breaks a call that ``dapr_fn`` accepts; empty when compatible.

    ``added_defaults`` lets wfkit give a default to a parameter Dapr requires.
    """
    dapr_params = list(inspect.signature(dapr_fn).parameters.values())
    wfkit_params = list(inspect.signature(wfkit_fn).parameters.values())
    wfkit_by_name = {p.name: p for p in wfkit_params}
    problems: list[str] = []
    for p in dapr_params:
        q = wfkit_by_name.get(p.name)
        if q is None:
            problems.append(f"missing parameter {p.name!r} ({p.kind.description})")
            continue
        if q.kind != p.kind:
            problems.append(
                f"{p.name!r} is {q.kind.description} in wfkit, {p.kind.description} in Dapr"
            )
        if p.default is inspect.Parameter.empty and added_defaults:
            continue
        if not same_default(p.default, q.default):
            problems.append(f"{p.name!r} defaults to {q.default!r} in wfkit, {p.default!r} in Dapr")
    dapr_names = [p.name for p in dapr_params]
    shared = [p.name for p in wfkit_params if p.name in dapr_names]
    if shared != [n for n in dapr_names if n in wfkit_by_name]:
        problems.append(f"parameter order {shared} differs from Dapr's {dapr_names}")
    last_shared = max((i for i, p in enumerate(wfkit_params) if p.name in dapr_names), default=-1)
    for i, q in enumerate(wfkit_params):
        if q.name in dapr_names:
            continue
        if q.kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(f"wfkit's own parameter {q.name!r} is not keyword-only")
        elif i < last_shared:
            problems.append(f"wfkit's own parameter {q.name!r} comes before Dapr's parameters")
        elif q.default is inspect.Parameter.empty:
            problems.append(f"wfkit's own parameter {q.name!r} has no default")
    return problems


DAPR_INNER_CONTEXT = "dapr.ext.workflow._durabletask.worker"

#: (Dapr path, wfkit path); a Dapr path may name another module as ``module:path``.
#: Dapr's DaprWorkflowContext forwards what it does not define (new_guid, the
#: deterministic helpers) to its inner durabletask context.
CALLABLES = [
    ("WorkflowRuntime.__init__", "WorkflowRuntime.__init__"),
    ("WorkflowRuntime.register_workflow", "WorkflowRuntime.register_workflow"),
    ("WorkflowRuntime.register_activity", "WorkflowRuntime.register_activity"),
    ("WorkflowRuntime.workflow", "WorkflowRuntime.workflow"),
    ("WorkflowRuntime.activity", "WorkflowRuntime.activity"),
    (
        "WorkflowRuntime.register_versioned_workflow",
        "WorkflowRuntime.register_versioned_workflow",
    ),
    ("WorkflowRuntime.versioned_workflow", "WorkflowRuntime.versioned_workflow"),
    ("DaprWorkflowContext.is_patched", "DaprWorkflowContext.is_patched"),
    ("WorkflowRuntime.start", "WorkflowRuntime.start"),
    ("WorkflowRuntime.shutdown", "WorkflowRuntime.shutdown"),
    ("WorkflowRuntime.wait_for_worker_ready", "WorkflowRuntime.wait_for_worker_ready"),
    ("DaprWorkflowContext.set_custom_status", "DaprWorkflowContext.set_custom_status"),
    ("DaprWorkflowContext.create_timer", "DaprWorkflowContext.create_timer"),
    ("DaprWorkflowContext.call_activity", "DaprWorkflowContext.call_activity"),
    ("DaprWorkflowContext.call_child_workflow", "DaprWorkflowContext.call_child_workflow"),
    (
        "DaprWorkflowContext.wait_for_external_event",
        "DaprWorkflowContext.wait_for_external_event",
    ),
    ("DaprWorkflowContext.continue_as_new", "DaprWorkflowContext.continue_as_new"),
    (f"{DAPR_INNER_CONTEXT}:_RuntimeOrchestrationContext.new_guid", "DaprWorkflowContext.new_guid"),
    (f"{DAPR_INNER_CONTEXT}:_RuntimeOrchestrationContext.uuid4", "DaprWorkflowContext.uuid4"),
    (f"{DAPR_INNER_CONTEXT}:_RuntimeOrchestrationContext.now", "DaprWorkflowContext.now"),
    (f"{DAPR_INNER_CONTEXT}:_RuntimeOrchestrationContext.random", "DaprWorkflowContext.random"),
    (
        f"{DAPR_INNER_CONTEXT}:_RuntimeOrchestrationContext.random_int",
        "DaprWorkflowContext.random_int",
    ),
    (
        f"{DAPR_INNER_CONTEXT}:_RuntimeOrchestrationContext.random_choice",
        "DaprWorkflowContext.random_choice",
    ),
    (
        f"{DAPR_INNER_CONTEXT}:_RuntimeOrchestrationContext.random_string",
        "DaprWorkflowContext.random_string",
    ),
    (
        f"{DAPR_INNER_CONTEXT}:_RuntimeOrchestrationContext.call_sub_orchestrator",
        "DaprWorkflowContext.call_sub_orchestrator",
    ),
    ("DaprWorkflowClient.__init__", "DaprWorkflowClient.__init__"),
    ("DaprWorkflowClient.schedule_new_workflow", "DaprWorkflowClient.schedule_new_workflow"),
    ("DaprWorkflowClient.get_workflow_state", "DaprWorkflowClient.get_workflow_state"),
    ("DaprWorkflowClient.wait_for_workflow_start", "DaprWorkflowClient.wait_for_workflow_start"),
    (
        "DaprWorkflowClient.wait_for_workflow_completion",
        "DaprWorkflowClient.wait_for_workflow_completion",
    ),
    ("DaprWorkflowClient.raise_workflow_event", "DaprWorkflowClient.raise_workflow_event"),
    ("DaprWorkflowClient.terminate_workflow", "DaprWorkflowClient.terminate_workflow"),
    ("DaprWorkflowClient.pause_workflow", "DaprWorkflowClient.pause_workflow"),
    ("DaprWorkflowClient.resume_workflow", "DaprWorkflowClient.resume_workflow"),
    ("DaprWorkflowClient.purge_workflow", "DaprWorkflowClient.purge_workflow"),
    (
        "DaprWorkflowClient.list_workflow_instance_ids",
        "DaprWorkflowClient.list_workflow_instance_ids",
    ),
    (
        "DaprWorkflowClient.iter_workflow_instance_ids",
        "DaprWorkflowClient.iter_workflow_instance_ids",
    ),
    ("DaprWorkflowClient.get_workflow_history", "DaprWorkflowClient.get_workflow_history"),
    (
        "DaprWorkflowClient.rerun_workflow_from_event",
        "DaprWorkflowClient.rerun_workflow_from_event",
    ),
    ("DaprWorkflowClient.close", "DaprWorkflowClient.close"),
    ("RetryPolicy.__init__", "RetryPolicy.__init__"),
    ("TaskFailedError.__init__", "TaskFailedError.__init__"),
    ("WorkflowActivityContext.get_inner_context", "WorkflowActivityContext.get_inner_context"),
    ("when_all", "when_all"),
    ("when_any", "when_any"),
    ("alternate_name", "alternate_name"),
    ("WorkflowHistoryEvent", "WorkflowHistoryEvent"),
    ("WorkflowInstanceIdPage", "WorkflowInstanceIdPage"),
]


def dapr_object(path: str) -> Any:
    if ":" in path:
        module, _, rest = path.partition(":")
        return resolve(module, rest)
    return resolve(dapr_wf, path)


@needs_dapr
@pytest.mark.parametrize(("dapr_path", "wfkit_path"), CALLABLES, ids=[w for _, w in CALLABLES])
def test_signature_matches_dapr(dapr_path: str, wfkit_path: str) -> None:
    problems = incompatibilities(dapr_object(dapr_path), resolve(wfkit, wfkit_path))
    assert not problems, f"{wfkit_path}: " + "; ".join(problems)


@needs_dapr
def test_failure_details_accepts_dapr_arguments() -> None:
    # wfkit's stack_trace defaults to None (documented in FailureDetails); Dapr's is required.
    problems = incompatibilities(dapr_wf.FailureDetails, wf.FailureDetails, added_defaults=True)
    assert not problems
    details = wf.FailureDetails("boom", "ValueError", "trace")
    assert (details.message, details.error_type, details.stack_trace) == (
        "boom",
        "ValueError",
        "trace",
    )


PROPERTIES = [
    ("DaprWorkflowContext", "instance_id"),
    ("DaprWorkflowContext", "current_utc_datetime"),
    ("DaprWorkflowContext", "is_replaying"),
    ("WorkflowActivityContext", "workflow_id"),
    ("WorkflowActivityContext", "task_id"),
    ("RetryPolicy", "first_retry_interval"),
    ("RetryPolicy", "max_number_of_attempts"),
    ("RetryPolicy", "backoff_coefficient"),
    ("RetryPolicy", "max_retry_interval"),
    ("RetryPolicy", "retry_timeout"),
    ("TaskFailedError", "details"),
    ("FailureDetails", "message"),
    ("FailureDetails", "error_type"),
    ("FailureDetails", "stack_trace"),
    ("WorkflowHistoryEvent", "is_rerunnable"),
]


def is_readable_attribute(cls: type, name: str) -> bool:
    attr = inspect.getattr_static(cls, name, None)
    if isinstance(attr, property):
        return attr.fget is not None
    # dataclass fields (slots) are member descriptors on the class
    return isinstance(attr, types.MemberDescriptorType) or name in getattr(
        cls, "__dataclass_fields__", {}
    )


@needs_dapr
@pytest.mark.parametrize(("cls", "name"), PROPERTIES, ids=[f"{c}.{n}" for c, n in PROPERTIES])
def test_property_matches_dapr(cls: str, name: str) -> None:
    dapr_attr = inspect.getattr_static(getattr(dapr_wf, cls), name)
    assert isinstance(dapr_attr, property)
    assert is_readable_attribute(getattr(wf, cls), name)


WORKFLOW_STATE_ATTRIBUTES = [
    "instance_id",
    "name",
    "runtime_status",
    "created_at",
    "last_updated_at",
    "serialized_input",
    "serialized_output",
    "serialized_custom_status",
    "failure_details",
]


@needs_dapr
def test_workflow_state_attributes_match_dapr() -> None:
    # Dapr's WorkflowState forwards attribute reads to durabletask's WorkflowState dataclass.
    from dapr.ext.workflow._durabletask import client as dt_client

    dapr_fields = [f.name for f in dataclasses.fields(dt_client.WorkflowState)]
    assert dapr_fields == WORKFLOW_STATE_ATTRIBUTES
    for name in WORKFLOW_STATE_ATTRIBUTES:
        assert isinstance(inspect.getattr_static(wf.WorkflowState, name), property), name


@needs_dapr
def test_workflow_state_to_json_matches_dapr(client: wf.DaprWorkflowClient) -> None:
    from dapr.ext.workflow._durabletask import client as dt_client

    def failing(ctx: wf.DaprWorkflowContext, _: Any) -> None:
        raise ValueError("no stock")

    client.runtime.register_workflow(failing)
    instance_id = client.schedule_new_workflow(failing, input={"sku": 1})
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert state is not None
    assert state.runtime_status is wf.WorkflowStatus.FAILED
    details = state.failure_details
    assert details is not None
    assert details.message == "no stock"
    assert details.error_type == "ValueError"
    assert isinstance(details.stack_trace, str)
    for name in WORKFLOW_STATE_ATTRIBUTES:
        getattr(state, name)

    now = datetime(2025, 1, 1)
    dapr_state = dapr_wf.WorkflowState(
        dt_client.WorkflowState(
            instance_id="x",
            name="failing",
            runtime_status=dt_client.OrchestrationStatus.FAILED,
            created_at=now,
            last_updated_at=now,
            serialized_input="{}",
            serialized_output=None,
            serialized_custom_status=None,
            failure_details=dapr_wf.FailureDetails("m", "ValueError", None),
        )
    )
    dapr_json, wfkit_json = dapr_state.to_json(), state.to_json()
    assert sorted(wfkit_json) == sorted(dapr_json)
    assert sorted(wfkit_json["failure_details"]) == sorted(dapr_json["failure_details"])
    assert wfkit_json["runtime_status"] == "FAILED"
    assert json.loads(str(state))["instance_id"] == instance_id


@needs_dapr
def test_workflow_status_matches_dapr() -> None:
    assert {m.name: m.value for m in wf.WorkflowStatus} == {
        m.name: m.value for m in dapr_wf.WorkflowStatus
    }
    assert [m.name for m in wf.WorkflowStatus] == [m.name for m in dapr_wf.WorkflowStatus]


@needs_dapr
def test_history_event_type_matches_dapr() -> None:
    assert {m.name: m.value for m in wf.WorkflowHistoryEventType} == {
        m.name: m.value for m in dapr_wf.WorkflowHistoryEventType
    }
    assert wf.WorkflowHistoryEventType("somethingNew") is wf.WorkflowHistoryEventType.UNKNOWN


@needs_dapr
@pytest.mark.parametrize("cls", ["WorkflowHistoryEvent", "WorkflowInstanceIdPage"])
def test_management_dataclass_fields_match_dapr(cls: str) -> None:
    dapr_fields = [f.name for f in dataclasses.fields(getattr(dapr_wf, cls))]
    assert [f.name for f in dataclasses.fields(getattr(wf, cls))] == dapr_fields


@needs_dapr
def test_unset_matches_dapr() -> None:
    assert repr(wf.UNSET) == repr(dapr_wf.UNSET)
    assert type(wf.UNSET).__name__ == type(dapr_wf.UNSET).__name__


def test_task_failed_error_carries_details() -> None:
    assert issubclass(wf.TaskFailedError, Exception)
    error = wf.TaskFailedError("failed", wf.FailureDetails("boom", "ValueError", None))
    assert str(error) == "failed"
    assert error.details.message == "boom"


def test_incompatibilities_catches_each_kind_of_difference() -> None:
    def dapr(a, b=1, *, c=None): ...

    def renamed(x, b=1, *, c=None): ...

    def other_default(a, b=2, *, c=None): ...

    def became_keyword(a, *, b=1, c=None): ...

    def positional_extra(a, b=1, d=None, *, c=None): ...

    def fine(a, b=1, *, c=None, d=None): ...

    assert incompatibilities(dapr, fine) == []
    assert incompatibilities(dapr, renamed)
    assert incompatibilities(dapr, other_default)
    assert incompatibilities(dapr, became_keyword)
    assert incompatibilities(dapr, positional_extra)


# --------------------------------------------------------------------------- Dapr module
def load_source(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(EXAMPLE)
    sys.modules[name] = module
    try:
        exec(compile(source, str(EXAMPLE), "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def test_dapr_module_runs_on_wfkit_with_only_the_import_changed() -> None:
    source = EXAMPLE.read_text()
    assert source.count(DAPR_IMPORT) == 1
    module = load_source(source.replace(DAPR_IMPORT, WFKIT_IMPORT), "dapr_module_on_wfkit")
    assert module.wf is wfkit
    order = {"items": [{"qty": 2, "unit_price": 30}, {"qty": 1, "unit_price": 40}]}
    state = module.main(order)
    assert state.runtime_status == wf.WorkflowStatus.COMPLETED, state.failure_details
    assert json.loads(state.serialized_output) == {"prices": [60, 40], "receipt": "charged 100"}
    assert state.serialized_custom_status == "shipped"  # a str is stored as given, as Dapr
    assert module.charge_attempts == [100, 100]  # failed once, retried by the policy
    assert not module.wfr.is_running


@needs_dapr
def test_dapr_module_imports_and_registers_under_dapr() -> None:
    module = load_source(EXAMPLE.read_text(), "dapr_module_on_dapr")
    assert module.wf is dapr_wf
    registry = module.wfr._WorkflowRuntime__worker._registry
    assert "order_pipeline" in registry.orchestrators
    assert {"price_item", "charge"} <= set(registry.activities)


# --------------------------------------------------------------------------- layering
HEAVY = ["duckdb", "pandas", "plotly", "ipywidgets", "anywidget"]


def test_import_wfkit_leaves_heavy_dependencies_unimported() -> None:
    code = f"import sys, wfkit; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "", f"import wfkit imported {result.stdout.strip()}"


PROJECT = Path(wfkit.__file__).parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the layers contract of pyproject.toml over the package found under ``root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_layers_contract_holds() -> None:
    result = lint_imports(PROJECT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_contract_fails_on_an_upward_import(tmp_path: Path) -> None:
    shutil.copytree(PROJECT / "wfkit", tmp_path / "wfkit")
    shutil.copy(PROJECT / "pyproject.toml", tmp_path)
    history = tmp_path / "wfkit" / "core" / "_history.py"
    history.write_text(history.read_text() + "\nfrom wfkit.runtime import _engine  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "wfkit.core is not allowed to import wfkit.runtime" in result.stdout
