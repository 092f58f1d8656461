"""Dapr's module path ``dapr.ext.workflow.dapr_workflow_context``."""

from wfkit.core._orchestration import DaprWorkflowContext
from wfkit.core._propagation import PropagatedHistory, PropagationScope
from wfkit.core._task import RetryPolicy, when_all, when_any
from wfkit.logger import Logger, LoggerOptions
from wfkit.runtime._runtime import WorkflowActivityContext
from wfkit.workflow_context import Workflow, WorkflowContext

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
