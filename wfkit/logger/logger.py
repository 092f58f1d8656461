"""Dapr's ``Logger``: a named standard logger set up from :class:`LoggerOptions`."""

from __future__ import annotations

import logging
from typing import Any

from wfkit.logger.options import LoggerOptions


class Logger:
    def __init__(self, name: str, options: LoggerOptions | None = None):
        options = options or LoggerOptions()
        handler = options.log_handler
        handler.setLevel(options.log_level)
        handler.setFormatter(options.log_formatter)
        logger = logging.getLogger(name)
        if not logger.handlers:  # one handler per name, however many objects are made
            logger.addHandler(handler)
        self._logger_options = options
        self._logger = logger

    def get_options(self) -> LoggerOptions:
        return self._logger_options

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.debug(msg, *args, **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.info(msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.warning(msg, *args, **kwargs)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.error(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.exception(msg, *args, **kwargs)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.critical(msg, *args, **kwargs)
