"""Dapr's module path ``dapr.ext.workflow.workflow_runtime``."""

from wfkit.core._orchestration import DaprWorkflowContext
from wfkit.core._registry import alternate_name
from wfkit.logger import Logger, LoggerOptions
from wfkit.runtime._runtime import WorkflowActivityContext, WorkflowRuntime
from wfkit.workflow_context import Activity, Workflow

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
