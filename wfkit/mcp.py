"""Dapr's module path ``dapr.ext.workflow.mcp`` (MCP needs Dapr's sidecar: ``connect``
raises ``SidecarRequiredError`` here)."""

from ._client import DaprWorkflowClient
from ._mcp import MCP_WORKFLOW_PREFIX, DaprMCPClient, MCPToolDef
from ._state import WorkflowStatus

__all__ = [
    "MCP_WORKFLOW_PREFIX",
    "DaprMCPClient",
    "DaprWorkflowClient",
    "MCPToolDef",
    "WorkflowStatus",
]
