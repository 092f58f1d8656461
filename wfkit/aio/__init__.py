"""``dapr.ext.workflow.aio``: the async workflow client, usable with ``await`` in a
notebook cell or any running event loop."""

from .._mcp import AsyncDaprMCPClient as DaprMCPClient
from .._mcp import MCPToolDef
from ._client import DaprWorkflowClient

__all__ = ["DaprMCPClient", "DaprWorkflowClient", "MCPToolDef"]
