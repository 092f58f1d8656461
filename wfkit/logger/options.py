"""Dapr's ``LoggerOptions``: level, handler and formatter of the SDK's loggers."""

from __future__ import annotations

import logging


class LoggerOptions:
    """Level (INFO by default), handler (a stream handler) and formatter, as Dapr's."""

    def __init__(
        self,
        log_level: str | None = None,
        log_handler: logging.Handler | None = None,
        log_formatter: logging.Formatter | None = None,
    ):
        self.log_level = logging.INFO if log_level is None else log_level
        self.log_handler = logging.StreamHandler() if log_handler is None else log_handler
        self.log_formatter = log_formatter or logging.Formatter(
            fmt="%(asctime)s.%(msecs)03d %(name)s %(levelname)s: %(message)s",
            datefmt="%Y-%m-%d %H:%M:%S",
        )
