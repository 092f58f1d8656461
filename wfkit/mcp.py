"""Dapr's module path ``dapr.ext.workflow.mcp`` (MCP needs Dapr's sidecar: ``connect``
raises ``SidecarRequiredError`` here)."""

from wfkit.core._state import WorkflowStatus
from wfkit.runtime._client import DaprWorkflowClient
from wfkit.runtime._mcp import MCP_WORKFLOW_PREFIX, DaprMCPClient, MCPToolDef

__all__ = [
    "MCP_WORKFLOW_PREFIX",
    "DaprMCPClient",
    "DaprWorkflowClient",
    "MCPToolDef",
    "WorkflowStatus",
]
