"""Several deliveries handled in one register transaction (`Agency.batch`): one commit for the lot,
each message in a savepoint of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from guichet.outcome import Outcome
from guichet.registers.transaction import Transaction

if TYPE_CHECKING:
    from guichet.agency import Agency

log = structlog.get_logger("guichet.agency")


class Batch:
    """The deliveries handled in one transaction (`Agency.batch`)."""

    def __init__(self, agency: Agency, tx: Transaction):
        self.agency, self.tx = agency, tx

    def process(
        self, body: bytes | str, headers: dict[str, Any] | None = None, content_type: str | None = "application/json"
    ) -> Outcome | None:
        """The message's outcome, or None when its handling raised: its writes were rolled back to
        its savepoint (the others' stay) and the caller must handle it alone."""
        read = self.agency.read(body, headers, content_type, self.tx)
        if isinstance(read, Outcome):
            return read
        self.tx.savepoint()
        try:
            outcome = self.agency.apply(self.tx, read)
        except Exception as exc:  # a handler fault, or a processed id another process took first
            self.tx.rollback_to_savepoint()
            log.info("handled alone after a fault in a batch", error=f"{type(exc).__name__}: {exc}")
            return None
        self.tx.release_savepoint()
        return outcome
