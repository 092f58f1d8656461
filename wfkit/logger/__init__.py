"""Dapr's ``dapr.ext.workflow.logger``: ``LoggerOptions`` configure the loggers of the
runtime and clients (accepted by ``WorkflowRuntime`` and ``DaprWorkflowClient``)."""

from wfkit.logger.logger import Logger
from wfkit.logger.options import LoggerOptions

__all__ = ["Logger", "LoggerOptions"]
