"""Dapr's module path ``dapr.ext.workflow.workflow_context``: the abstract
``WorkflowContext`` (``DaprWorkflowContext`` is registered as one) and the ``Workflow``
type of workflow functions."""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Generator
from typing import Any

from wfkit.core._orchestration import DaprWorkflowContext
from wfkit.core._propagation import PropagatedHistory, PropagationScope
from wfkit.workflow_activity_context import Activity


class WorkflowContext(ABC):  # noqa: B024 - a marker for isinstance checks and annotations
    """What a workflow function receives; ``isinstance(ctx, WorkflowContext)`` holds for
    wfkit's :class:`DaprWorkflowContext`, as for Dapr's."""


WorkflowContext.register(DaprWorkflowContext)

#: A workflow function: ``(ctx, input) -> generator of tasks`` (or a plain result).
Workflow = Callable[..., Generator[Any, Any, Any] | Any]

__all__ = ["Activity", "PropagatedHistory", "PropagationScope", "Workflow", "WorkflowContext"]
