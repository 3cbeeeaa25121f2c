"""The console's "now" is the bus clock the agencies' audit copies report: the latest `bus_now`, moved
on by the real time elapsed since it was received times the bus's time scale. A simulated bus (a
compressed clock, or a clock far from real time) is shown as such, and every "time left" uses it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from guichet_operations.supervision.store import Store

# A bus clock further than this from real time is a simulation's, whatever its scale.
FAR = timedelta(minutes=5)


def utc_text(moment: datetime) -> str:
    """The store's instants: UTC text that sorts as time does."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class BusClock:
    now: datetime
    real: datetime
    scale: float

    @property
    def virtual(self) -> bool:
        return self.scale != 1 or abs(self.now - self.real) > FAR


def bus_clock(store: Store, real_now: Callable[[], datetime]) -> BusClock:
    real = real_now()
    rows = store.rows("SELECT bus_now, time_scale, received_at FROM sources ORDER BY bus_now DESC LIMIT 1")
    if not rows:
        return BusClock(real, real, 1.0)
    row = rows[0]
    bus_now, received = parse(row["bus_now"]), parse(row["received_at"])
    assert bus_now is not None and received is not None
    scale = float(row["time_scale"])
    return BusClock(bus_now + (real - received) * scale, real, scale)
