"""Dapr's module path ``dapr.ext.workflow.workflow_runtime``."""

from ._orchestration import DaprWorkflowContext
from ._registry import alternate_name
from ._runtime import WorkflowActivityContext, WorkflowRuntime
from .logger import Logger, LoggerOptions

__all__ = [
    "DaprWorkflowContext",
    "Logger",
    "LoggerOptions",
    "WorkflowActivityContext",
    "WorkflowRuntime",
    "alternate_name",
]
