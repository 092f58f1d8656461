"""Dapr's module path ``dapr.ext.workflow.workflow_management``."""

from ._history import FailureDetails
from ._state import (
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
