"""Dapr's ``dapr.ext.workflow.logger``: ``LoggerOptions`` configure the loggers of the
runtime and clients (accepted by ``WorkflowRuntime`` and ``DaprWorkflowClient``)."""

from .logger import Logger
from .options import LoggerOptions

__all__ = ["Logger", "LoggerOptions"]
