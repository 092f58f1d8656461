"""Dapr's module path ``dapr.ext.workflow.aio.dapr_workflow_client``."""

from wfkit.aio._client import DaprWorkflowClient
from wfkit.core._state import UNSET, WorkflowHistoryEvent, WorkflowInstanceIdPage, WorkflowState
from wfkit.logger import Logger, LoggerOptions
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
