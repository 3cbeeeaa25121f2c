"""Publishing an agency's outbox: what its handlers committed, sent once it is due.

The due rows are claimed first (another process of the agency may be flushing the same outbox),
sent together with one wait for the broker's confirms, then marked sent and journaled in one
transaction. Should a process die between the confirm and the mark, its claim goes stale and the
rows are sent again: the receivers' processed ids absorb the second copy.

A transmission to another agency may expire in its recipient's queue at its legal deadline
(`expire_late`): it is then dead-lettered to the late queue, relayed with an alert, and still
delivered (guichet/late_relay.py).
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guichet.agency import Agency
    from guichet.envelope import Envelope
    from guichet.hooks import Hooks
    from guichet.transport import Transport

# Who holds an outbox row while publishing it: this process. A claim older than this is another
# process's that died before marking its rows sent; they are taken over.
CLAIMANT = f"{socket.gethostname()}:{os.getpid()}"
CLAIM_STALE_SECONDS = 30


class OutboxPublisher:
    def __init__(self, agency: Agency, bus: Transport, hooks: Hooks, expire_late: bool = False):
        self.agency, self.bus, self.hooks = agency, bus, hooks
        self.expire_late = expire_late

    def flush(self, now: datetime | None = None, limit: int = 200) -> int:
        """Publish what is due at `now` (the agency's clock by default); the number of rows sent."""
        now = now or self.agency.clock.now()
        register = self.agency.register
        real_now = datetime.now(UTC)
        rows = register.claim_outbox(now, CLAIMANT, real_now, real_now - timedelta(seconds=CLAIM_STALE_SECONDS), limit)
        if not rows:
            return 0
        envelopes = [register.outbox_envelope(row) for row in rows]
        self.bus.publish_batch(
            [
                (
                    row["body"],
                    row["routing_key"],
                    json.loads(row["headers"]),
                    row["message_id"],
                    self._expiration(envelope),
                )
                for row, envelope in zip(rows, envelopes, strict=True)
            ]
        )
        # Marked together once all were confirmed: a crash before the mark sends them again.
        register.mark_all_published(list(zip(rows, envelopes, strict=True)), self.agency.clock.now())
        for envelope in envelopes:
            self.hooks.published(envelope)
        return len(rows)

    def _expiration(self, envelope: Envelope) -> float | None:
        """A transmission waits in its recipient's queue until its legal deadline at most; then it is
        dead-lettered to the late queue (and still delivered)."""
        if (
            not self.expire_late
            or envelope.deadline is None
            or envelope.recipient not in self.bus.topology.parties.agencies
        ):
            return None
        seconds = self.agency.clock.real_seconds_until(envelope.deadline)
        return seconds if seconds > 0 else None
