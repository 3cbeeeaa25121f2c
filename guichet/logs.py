"""structlog, configured once: the message's context bound per delivery, JSON lines when stderr is
not a terminal, always on stderr so that standard output stays the command's result."""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog

from guichet.privacy import redact_personal_data
from guichet.tracing import add_trace_id


class _CurrentStderr:
    """sys.stderr as it is when a line is written, not when logging was configured: a command run
    in-process (a test, an embedding tool) may have swapped and closed the stream it started with."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "info", json_lines: bool | None = None) -> None:
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_trace_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_personal_data,  # last before rendering: nothing personal reaches a log line
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )
