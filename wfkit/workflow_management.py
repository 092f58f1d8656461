"""Dapr's module path ``dapr.ext.workflow.workflow_management``."""

from wfkit.core._history import FailureDetails
from wfkit.core._state import (
    UNSET,
    WorkflowHistoryEvent,
    WorkflowHistoryEventType,
    WorkflowInstanceIdPage,
)

__all__ = [
    "UNSET",
    "FailureDetails",
    "WorkflowHistoryEvent",
    "WorkflowHistoryEventType",
    "WorkflowInstanceIdPage",
]
