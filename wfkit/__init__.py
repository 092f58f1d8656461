"""wfkit: the Dapr Workflow programming model in-process, for notebooks.

Code written for ``dapr.ext.workflow`` runs here after changing only its import line
(``import wfkit as wf``); wfkit adds a virtual clock, deterministic replay and
queryable histories.
"""

from wfkit.core._clock import SystemClock, VirtualClock
from wfkit.core._errors import (
    ActivityNotRegisteredError,
    EngineAddressError,
    EngineError,
    EngineUnavailableError,
    InstanceExistsError,
    InstanceNotFoundError,
    InvalidArgumentError,
    InvalidInstanceStateError,
    MissingDependencyError,
    NonDeterminismError,
    NonRetryableError,
    PayloadTooLargeError,
    RuntimeNotStartedError,
    RuntimeStoppedError,
    SerializationError,
    SidecarRequiredError,
    StoreCorruptError,
    StoreError,
    StoreFormatError,
    StoreLockedError,
    StoreVersionError,
    StoreWriteError,
    UnknownHistoryEventError,
    UnstorableTextError,
    VersionNotRegisteredError,
    WfkitError,
    WfkitWarning,
    WorkflowNotRegisteredError,
)
from wfkit.core._history import FailureDetails
from wfkit.core._orchestration import DaprWorkflowContext
from wfkit.core._propagation import (
    ActivityResult,
    ChildWorkflowResult,
    PropagatedHistory,
    PropagationNotFoundError,
    PropagationScope,
    WorkflowResult,
)
from wfkit.core._registry import alternate_name
from wfkit.core._state import (
    UNSET,
    WorkflowFailedError,
    WorkflowHistoryEvent,
    WorkflowHistoryEventType,
    WorkflowInstanceIdPage,
    WorkflowState,
    WorkflowStatus,
)
from wfkit.core._task import RetryPolicy, TaskFailedError, when_all, when_any
from wfkit.core._version import __version__ as __version__
from wfkit.interop.connect import Connection, connect
from wfkit.runtime._client import DaprWorkflowClient
from wfkit.runtime._mcp import DaprMCPClient, MCPToolDef
from wfkit.runtime._runtime import WorkflowActivityContext, WorkflowRuntime
from wfkit.store import DuckDBStore, MemoryStore

# Subpackages with heavy dependencies load on first use: `wf.widgets.timeline(...)`.
_LAZY_SUBMODULES = frozenset({"widgets", "timetravel", "interop", "aio", "logger"})


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'wfkit' has no attribute {name!r}")


__all__ = [
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
