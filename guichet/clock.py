"""One clock object for the whole bus: real time, compressed time, or virtual time.

Legal deadlines are counted in days; tests and demonstrations compress them through the clock,
never through sleep.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from guichet.timeutil import paris


class Clock:
    def now(self) -> datetime:
        raise NotImplementedError

    def real_seconds_until(self, moment: datetime) -> float:
        """How long a process must really wait for the clock to reach `moment`."""
        return max(0.0, (moment - self.now()).total_seconds())


class SystemClock(Clock):
    def now(self) -> datetime:
        return paris(datetime.now(UTC))


class ScaledClock(Clock):
    """Real time compressed `scale` times around `origin`: at the origin both clocks agree.

    Every process of one bus must share the origin and the scale, otherwise their deadlines
    disagree; `guichet run` takes both as options.
    """

    def __init__(self, scale: float, origin: datetime):
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self.origin = origin if origin.tzinfo else origin.replace(tzinfo=UTC)
        self._origin_epoch = self.origin.timestamp()

    def now(self) -> datetime:
        elapsed = time.time() - self._origin_epoch
        return paris(datetime.fromtimestamp(self._origin_epoch + elapsed * self.scale, UTC))

    def real_seconds_until(self, moment: datetime) -> float:
        return max(0.0, (moment - self.now()).total_seconds() / self.scale)


class VirtualClock(Clock):
    """Time that moves only when told: `guichet simulate` jumps from one due event to the next."""

    def __init__(self, start: datetime):
        self._now = paris(start)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        if moment > self._now:
            self._now = paris(moment)
