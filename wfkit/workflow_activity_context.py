"""Dapr's module path ``dapr.ext.workflow.workflow_activity_context``."""

from collections.abc import Callable
from typing import Any

from ._propagation import PropagatedHistory
from ._runtime import WorkflowActivityContext

#: An activity function: ``(ctx, input) -> result``.
Activity = Callable[..., Any]

__all__ = ["Activity", "PropagatedHistory", "WorkflowActivityContext"]
