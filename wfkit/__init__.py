"""wfkit: the Dapr Workflow programming model in-process, for notebooks.

Code written for ``dapr.ext.workflow`` runs here after changing only its import line
(``import wfkit as wf``); wfkit adds a virtual clock, deterministic replay and
queryable histories.
"""

from ._client import DaprWorkflowClient
from ._clock import SystemClock, VirtualClock
from ._errors import (
    ActivityNotRegisteredError,
    EngineAddressError,
    EngineError,
    EngineUnavailableError,
    InstanceExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
    MissingDependencyError,
    NonDeterminismError,
    NonRetryableError,
    PayloadTooLargeError,
    RuntimeNotStartedError,
    SerializationError,
    SidecarRequiredError,
    StoreCorruptError,
    StoreError,
    StoreFormatError,
    StoreLockedError,
    StoreVersionError,
    UnknownHistoryEventError,
    VersionNotRegisteredError,
    WfkitError,
    WfkitWarning,
    WorkflowNotRegisteredError,
)
from ._history import FailureDetails
from ._mcp import DaprMCPClient, MCPToolDef
from ._orchestration import DaprWorkflowContext
from ._propagation import (
    ActivityResult,
    ChildWorkflowResult,
    PropagatedHistory,
    PropagationNotFoundError,
    PropagationScope,
    WorkflowResult,
)
from ._registry import alternate_name
from ._runtime import WorkflowActivityContext, WorkflowRuntime
from ._state import (
    UNSET,
    WorkflowFailedError,
    WorkflowHistoryEvent,
    WorkflowHistoryEventType,
    WorkflowInstanceIdPage,
    WorkflowState,
    WorkflowStatus,
)
from ._store import DuckDBStore, MemoryStore
from ._task import RetryPolicy, TaskFailedError, when_all, when_any
from .interop.connect import Connection, connect

__version__ = "0.1.0"

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
    "SerializationError",
    "SidecarRequiredError",
    "StoreCorruptError",
    "StoreError",
    "StoreFormatError",
    "StoreLockedError",
    "StoreVersionError",
    "SystemClock",
    "TaskFailedError",
    "UnknownHistoryEventError",
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
