"""What the runtime makes of one delivery: admitted (decoded, verified, with its handler), then
processed, skipped as a duplicate, or refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guichet.agency_definition import Handler
from guichet.envelope import Envelope
from guichet.message import Message


@dataclass(frozen=True)
class Admitted:
    """A delivery decoded and verified, with the handler it goes to: what `Agency.apply` runs."""

    envelope: Envelope
    message: Message
    handler: Handler
    # The delivery's bytes as they came: what the journal keeps of the message (guichet/journal.py).
    received: bytes | str | None = None


@dataclass
class Outcome:
    """What became of one delivery: processed, skipped as a duplicate, or sent to the error queue."""

    status: str
    envelope: Envelope | None = None
    reason: str | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
