"""Dapr's module path ``dapr.ext.workflow.dapr_workflow_client``."""

from ._client import DaprWorkflowClient
from ._state import UNSET, WorkflowHistoryEvent, WorkflowInstanceIdPage, WorkflowState
from .logger import Logger, LoggerOptions
from .workflow_context import Workflow

__all__ = [
    "UNSET",
    "DaprWorkflowClient",
    "Logger",
    "LoggerOptions",
    "Workflow",
    "WorkflowHistoryEvent",
    "WorkflowInstanceIdPage",
    "WorkflowState",
]
