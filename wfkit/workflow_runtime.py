"""Dapr's module path ``dapr.ext.workflow.workflow_runtime``."""

from ._orchestration import DaprWorkflowContext
from ._registry import alternate_name
from ._runtime import WorkflowActivityContext, WorkflowRuntime
from .logger import Logger, LoggerOptions
from .workflow_context import Activity, Workflow

__all__ = [
    "Activity",
    "DaprWorkflowContext",
    "Logger",
    "LoggerOptions",
    "Workflow",
    "WorkflowActivityContext",
    "WorkflowRuntime",
    "alternate_name",
]
