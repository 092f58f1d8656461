"""Dapr's module path ``dapr.ext.workflow.aio.dapr_workflow_client``."""

from .._state import UNSET, WorkflowHistoryEvent, WorkflowInstanceIdPage, WorkflowState
from ..logger import Logger, LoggerOptions
from ..workflow_context import Workflow
from ._client import DaprWorkflowClient

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
