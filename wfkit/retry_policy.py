"""Dapr's module path ``dapr.ext.workflow.retry_policy``."""

from wfkit.core._task import RetryPolicy

__all__ = ["RetryPolicy"]
