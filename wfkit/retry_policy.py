"""Dapr's module path ``dapr.ext.workflow.retry_policy``."""

from ._task import RetryPolicy

__all__ = ["RetryPolicy"]
