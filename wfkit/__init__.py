"""wfkit: the Dapr Workflow programming model in-process, for notebooks.

Code written for ``dapr.ext.workflow`` runs here after changing only its import line
(``import wfkit as wf``); wfkit adds a virtual clock, deterministic replay and
queryable histories.
"""

from ._client import DaprWorkflowClient
from ._clock import SystemClock, VirtualClock
from ._errors import (
    ActivityNotRegisteredError,
    InstanceExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
    NonDeterminismError,
    NonRetryableError,
    PayloadTooLargeError,
    RuntimeNotStartedError,
    SerializationError,
    WfkitError,
    WfkitWarning,
    WorkflowNotRegisteredError,
)
from ._history import FailureDetails
from ._orchestration import DaprWorkflowContext
from ._registry import alternate_name
from ._runtime import WorkflowActivityContext, WorkflowRuntime
from ._state import (
    UNSET,
    WorkflowHistoryEvent,
    WorkflowHistoryEventType,
    WorkflowInstanceIdPage,
    WorkflowState,
    WorkflowStatus,
)
from ._task import RetryPolicy, TaskFailedError, when_all, when_any

__version__ = "0.1.0"

__all__ = [
    "UNSET",
    "ActivityNotRegisteredError",
    "DaprWorkflowClient",
    "DaprWorkflowContext",
    "FailureDetails",
    "InstanceExistsError",
    "InstanceNotFoundError",
    "InvalidInstanceStateError",
    "NonDeterminismError",
    "NonRetryableError",
    "PayloadTooLargeError",
    "RetryPolicy",
    "RuntimeNotStartedError",
    "SerializationError",
    "SystemClock",
    "TaskFailedError",
    "VirtualClock",
    "WfkitError",
    "WfkitWarning",
    "WorkflowActivityContext",
    "WorkflowHistoryEvent",
    "WorkflowHistoryEventType",
    "WorkflowInstanceIdPage",
    "WorkflowNotRegisteredError",
    "WorkflowRuntime",
    "WorkflowState",
    "WorkflowStatus",
    "alternate_name",
    "when_all",
    "when_any",
]
