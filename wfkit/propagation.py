"""Dapr's module path ``dapr.ext.workflow.propagation``: history propagation types."""

from wfkit.core._propagation import (
    ActivityResult,
    ChildWorkflowResult,
    PropagatedHistory,
    PropagationNotFoundError,
    PropagationScope,
    WorkflowResult,
)

__all__ = [
    "ActivityResult",
    "ChildWorkflowResult",
    "PropagatedHistory",
    "PropagationNotFoundError",
    "PropagationScope",
    "WorkflowResult",
]
