"""The journal's anchors, copied to an outside auditor's inbox (for the guichet unique, the
ministry's `ministere` queue), beside the copy the supervision service keeps.

An anchor (guichet/journal_anchor.py) proves the journal only to a party that holds it where the
agency cannot reach: the supervision service is one, run by the operations team; the ministry, a
party to none of the dossiers' steps, is another. Each anchor is published once on the flow
exchange under `<auditor>.<agency>.ancre_journal`, as the signed statement itself (no envelope: it
is about the journal, not a dossier), and marked `copied_at` in the register once the broker
confirmed it. A copy the broker refuses (the auditor's queue full) stays unmarked and goes with a
later turn: the agency's own deliveries never wait for it. `guichet journal verify --anchors FILE`
checks a register against the copies an auditor kept.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from guichet import journal_anchor as anchor
from guichet.register import Register
from guichet.registers.instants import utc_text
from guichet.transport.base import Transport

log = structlog.get_logger("guichet.journal")

NAME = "ancre_journal"
CONTENT_TYPE = "application/vnd.guichet.anchor+json"
VERSION = 1
PER_TURN = 100
EVERY_SECONDS = 1.0
# A refused copy is said at most this often: the auditor's queue may stay full for a while.
WARN_SECONDS = 60.0


def anchor_type(agency: str) -> str:
    return f"{agency}.{NAME}"


def routing_key(auditor: str, agency: str) -> str:
    return f"{auditor}.{anchor_type(agency)}"


def document(agency: str, row: dict[str, Any]) -> dict[str, Any]:
    """The anchor as signed, with its signature: what the auditor keeps and checks."""
    signed = anchor.statement(agency, int(row["seq"]), row["head"], row["signed_at"], row["key_id"])
    return {**signed, "signature": row["signature"]}


@dataclass
class AnchorCopies:
    agency: str
    auditor: str
    register: Register
    every_seconds: float = EVERY_SECONDS
    _last_try: float = 0.0
    _warned: float = -WARN_SECONDS

    def due(self) -> bool:
        return time.monotonic() - self._last_try >= self.every_seconds

    def ship(self, bus: Transport) -> int:
        """Copy the anchors not copied yet; how many went."""
        self._last_try = time.monotonic()
        rows = self.register.read(
            f"SELECT {', '.join(anchor.FIELDS)} FROM journal_anchors WHERE copied_at IS NULL ORDER BY seq LIMIT ?",
            PER_TURN,
        )
        copied = 0
        for row in rows:
            try:
                bus.publish(
                    json.dumps(document(self.agency, row), separators=(",", ":")),
                    routing_key(self.auditor, self.agency),
                    {"type": anchor_type(self.agency), "version": VERSION, "sender": self.agency},
                    f"{self.agency}:ancre:{row['seq']}",
                    content_type=CONTENT_TYPE,
                )
            except Exception as exc:  # refused (the auditor's queue full): sent again at a later turn
                if time.monotonic() - self._warned >= WARN_SECONDS:
                    log.warning("journal anchor not copied to the auditor", auditor=self.auditor, error=repr(exc))
                    self._warned = time.monotonic()
                break
            with self.register.transaction() as tx:
                tx.execute(
                    "UPDATE journal_anchors SET copied_at = ? WHERE seq = ?", utc_text(datetime.now(UTC)), row["seq"]
                )
            copied += 1
        return copied
