"""Dapr's module path ``dapr.ext.workflow.dapr_workflow_client``."""

from wfkit.core._state import UNSET, WorkflowHistoryEvent, WorkflowInstanceIdPage, WorkflowState
from wfkit.logger import Logger, LoggerOptions
from wfkit.runtime._client import DaprWorkflowClient
from wfkit.workflow_context import Workflow

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
