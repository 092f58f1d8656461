"""Dapr's module path ``dapr.ext.workflow.dapr_workflow_client``."""

from ._client import DaprWorkflowClient
from ._state import UNSET, WorkflowHistoryEvent, WorkflowInstanceIdPage, WorkflowState
from .logger import Logger, LoggerOptions

__all__ = [
    "UNSET",
    "DaprWorkflowClient",
    "Logger",
    "LoggerOptions",
    "WorkflowHistoryEvent",
    "WorkflowInstanceIdPage",
    "WorkflowState",
]
