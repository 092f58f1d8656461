"""Dapr's MCP client names. Dapr's sidecar serves MCP servers (``MCPServer`` resources)
as built-in workflows; an in-process runtime has no sidecar, so connecting raises
:class:`SidecarRequiredError` that says so. The names exist so that a module written for
Dapr imports, and a notebook can prepare tool definitions for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wfkit.core._errors import SidecarRequiredError

#: Prefix of the workflows Dapr's sidecar runs for MCP servers.
MCP_WORKFLOW_PREFIX = "dapr.internal.mcp."


@dataclass(frozen=True)
class MCPToolDef:
    """One MCP tool: its name, description, JSON Schema input and the Dapr MCPServer
    and workflow that serve it."""

    name: str
    description: str
    input_schema: dict[str, Any] = field(default_factory=dict)
    server_name: str = ""
    call_tool_workflow: str = ""


def _sidecar_required(server: str) -> SidecarRequiredError:
    return SidecarRequiredError(
        f"cannot connect to MCP server {server!r}: Dapr's sidecar serves MCP servers (the "
        f"'{MCP_WORKFLOW_PREFIX}{server}.ListTools' workflow of an MCPServer resource), and "
        "wfkit runs in-process without one. Run this code on Dapr (`dapr run` with the "
        "MCPServer resource), or call the tool from an activity of your own here."
    )


class _MCPClientBase:
    def __init__(
        self,
        *,
        timeout_in_seconds: int = 60,
        allowed_tools: set[str] | None = None,
        wf_client: Any = None,
    ) -> None:
        if timeout_in_seconds <= 0:
            raise ValueError("timeout_in_seconds must be a positive integer")
        self._timeout = timeout_in_seconds
        self._allowed_tools = allowed_tools
        self._wf_client = wf_client
        self._server_tools: dict[str, list[MCPToolDef]] = {}

    def get_all_tools(self) -> list[MCPToolDef]:
        return [tool for tools in self._server_tools.values() for tool in tools]

    def get_server_tools(self, server_name: str) -> list[MCPToolDef]:
        return list(self._server_tools.get(server_name, []))

    def get_connected_servers(self) -> list[str]:
        return list(self._server_tools)


class DaprMCPClient(_MCPClientBase):
    """Dapr's MCP client; ``connect`` needs Dapr's sidecar (raises SidecarRequiredError)."""

    def connect(self, mcpserver_name: str) -> None:
        if not isinstance(mcpserver_name, str) or not mcpserver_name.strip():
            raise ValueError("mcpserver_name must be a non-empty string")
        raise _sidecar_required(mcpserver_name)


class AsyncDaprMCPClient(_MCPClientBase):
    """The async MCP client (``wfkit.aio.DaprMCPClient``); ``await connect(...)`` needs
    Dapr's sidecar (raises SidecarRequiredError)."""

    async def connect(self, mcpserver_name: str) -> None:
        if not isinstance(mcpserver_name, str) or not mcpserver_name.strip():
            raise ValueError("mcpserver_name must be a non-empty string")
        raise _sidecar_required(mcpserver_name)
