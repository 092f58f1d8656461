"""Dapr's module path ``dapr.ext.workflow.aio.mcp``."""

from .._mcp import AsyncDaprMCPClient as DaprMCPClient
from .._state import WorkflowStatus
from ._client import DaprWorkflowClient

__all__ = ["DaprMCPClient", "DaprWorkflowClient", "WorkflowStatus"]
