"""When a failed handling is tried again: the tiers as data.

1. A transient fault (a locked SQLite file, a dropped database link) is retried at once, a few
   times within a second (`immediate_attempts`, for the exceptions in `transient`).
2. A handler that still fails is retried later, after each of `delays` in turn (the topology's
   wait queues: the message is acked and republished, never held unacked for minutes). Attempts
   are counted in a header of the message itself, so any process of the agency may take it.
3. After the last delayed retry, or at once for a message that can never succeed, it goes to the
   error queue (guichet/dead_letters.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from guichet.failures import ATTEMPTS, FIRST_FAILURE, LAST_ERROR

T = TypeVar("T")

# Faults that go away by themselves within seconds: a locked SQLite file, a dropped database link.
TRANSIENT: tuple[type[BaseException], ...] = (sqlite3.OperationalError, ConnectionError, TimeoutError)
IMMEDIATE_ATTEMPTS = 3


@dataclass(frozen=True)
class RetryPolicy:
    delays: tuple[float, ...]
    immediate_attempts: int = IMMEDIATE_ATTEMPTS
    transient: tuple[type[BaseException], ...] = TRANSIENT

    def immediately(self, call: Callable[[], T], on_retry: Callable[[], None]) -> T:
        """`call`, tried again at once on a transient fault; any other exception propagates."""
        for attempt in Retrying(
            stop=stop_after_attempt(self.immediate_attempts),
            reraise=True,
            wait=wait_exponential(multiplier=0.05, max=1),
            retry=retry_if_exception_type(self.transient),
            before_sleep=lambda _: on_retry(),
        ):
            with attempt:
                return call()
        raise AssertionError("unreachable: tenacity returns or re-raises")

    @staticmethod
    def attempts(headers: dict[str, Any]) -> int:
        """The delayed retries a message already had."""
        return int(headers.get(ATTEMPTS, 0))

    def delay_after(self, attempts: int) -> float | None:
        """How long to wait before the next try of a message retried `attempts` times; None: no more."""
        return self.delays[attempts] if attempts < len(self.delays) else None

    @staticmethod
    def next_headers(headers: dict[str, Any], attempts: int, now: datetime, error: str | None) -> dict[str, Any]:
        """The headers of a message retried later: its attempts, its first failure, its last error."""
        return {
            **headers,
            ATTEMPTS: attempts + 1,
            FIRST_FAILURE: headers.get(FIRST_FAILURE) or now.isoformat(),
            LAST_ERROR: error or "",
        }
