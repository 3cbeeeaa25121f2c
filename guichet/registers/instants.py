"""How a register writes an instant: sortable UTC text, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from guichet.timeutil import paris


@lru_cache(maxsize=4096)
def utc_text(moment: datetime) -> str:
    """Sortable text for an instant: the same format everywhere so that text order is time order."""
    # isoformat: the same text as strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), in half the time. Cached:
    # one handling writes the same few instants a dozen times (equal instants give equal text).
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    return None if text is None else paris(datetime.fromisoformat(text))
