"""Dapr's module path ``dapr.ext.workflow.workflow_state``."""

from wfkit.core._state import WorkflowState, WorkflowStatus

__all__ = ["WorkflowState", "WorkflowStatus"]
