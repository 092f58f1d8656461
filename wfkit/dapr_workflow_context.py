"""Dapr's module path ``dapr.ext.workflow.dapr_workflow_context``."""

from ._orchestration import DaprWorkflowContext
from ._propagation import PropagatedHistory, PropagationScope
from ._runtime import WorkflowActivityContext
from ._task import RetryPolicy, when_all, when_any
from .logger import Logger, LoggerOptions
from .workflow_context import Workflow, WorkflowContext

__all__ = [
    "DaprWorkflowContext",
    "Logger",
    "LoggerOptions",
    "PropagatedHistory",
    "PropagationScope",
    "RetryPolicy",
    "Workflow",
    "WorkflowActivityContext",
    "WorkflowContext",
    "when_all",
    "when_any",
]
