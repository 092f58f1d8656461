"""Dapr's module path ``dapr.ext.workflow.workflow_activity_context``."""

from collections.abc import Callable
from typing import Any

from wfkit.core._propagation import PropagatedHistory
from wfkit.runtime._runtime import WorkflowActivityContext

#: An activity function: ``(ctx, input) -> result``.
Activity = Callable[..., Any]

__all__ = ["Activity", "PropagatedHistory", "WorkflowActivityContext"]
