"""Dapr's module path ``dapr.ext.workflow.workflow_state``."""

from ._state import WorkflowState, WorkflowStatus

__all__ = ["WorkflowState", "WorkflowStatus"]
