"""``dapr.ext.workflow.aio``: the async workflow client, usable with ``await`` in a
notebook cell or any running event loop."""

from wfkit.aio._client import DaprWorkflowClient
from wfkit.runtime._mcp import AsyncDaprMCPClient as DaprMCPClient
from wfkit.runtime._mcp import MCPToolDef

__all__ = ["DaprMCPClient", "DaprWorkflowClient", "MCPToolDef"]
