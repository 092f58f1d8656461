"""Dapr's module path ``dapr.ext.workflow.aio.mcp``."""

from wfkit.aio._client import DaprWorkflowClient
from wfkit.core._state import WorkflowStatus
from wfkit.runtime._mcp import AsyncDaprMCPClient as DaprMCPClient

__all__ = ["DaprMCPClient", "DaprWorkflowClient", "WorkflowStatus"]
