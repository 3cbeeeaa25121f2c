"""The error queue and its archive rid of erased dossiers' messages (RGPD art. 17 and 5(1)(e):
docs/retention.md), through the operator's account.

A failed message is kept whole, body included, so it holds whatever personal data its dossier had:
once the dossier is erased from the registers, its messages in `erreurs` and `erreurs.archive` go
too (acknowledged and not published anywhere: deleted). In the archive, a message set aside longer
than its period (`archived_before`, from the `x-guichet-archived-at` the archiving wrote) goes
whatever its dossier. Everything else goes back to its queue, in its order, when the channel closes
(the way `guichet errors` browses, guichet_operations/error_queue.py).

Which dossier a message is of: its `dossier_id` header, else the `dossier_id` its body names (a
message refused before its headers were read). A message naming none is never taken.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from guichet.bus import Bus
from guichet_operations.error_queue import ErrorEntry, _entry

ARCHIVED_AT = "x-guichet-archived-at"


def dossier_of(entry: ErrorEntry) -> str | None:
    if entry.dossier_id:
        return str(entry.dossier_id)
    try:
        named = json.loads(entry.body).get("dossier_id")
    except (ValueError, AttributeError, RecursionError):
        return None
    return str(named) if named else None


def _archived_at(entry: ErrorEntry) -> datetime | None:
    value = entry.headers.get(ARCHIVED_AT)
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@dataclass
class Swept:
    errors: int = 0  # messages of erased dossiers taken from `erreurs`
    archive: int = 0  # from `erreurs.archive`: of erased dossiers, or past their period there

    def as_dict(self) -> dict[str, int]:
        return {"erreurs": self.errors, "erreurs.archive": self.archive}


def _drain(bus: Bus, owner: str, doomed: Callable[[ErrorEntry], bool]) -> int:
    """Take every message of the queue, acknowledge (delete) the doomed ones, return the others."""
    name = bus.topology.queue_name(owner)
    queue = next(q for q in bus.topology.queues() if q.name == name)
    channel = bus.consuming.channel()
    gone = 0
    try:
        bound = queue(channel)
        while (message := bound.get(no_ack=False, accept=None)) is not None:
            if doomed(_entry(message)):
                message.ack()
                gone += 1
    finally:
        channel.close()  # what was not acked goes back to the queue, in order
    return gone


def sweep(bus: Bus, erased: set[str], archived_before: datetime | None = None) -> Swept:
    """Delete the messages of the `erased` dossiers from the error queue and its archive, and the
    archive's messages set aside before `archived_before`."""

    def of_erased(entry: ErrorEntry) -> bool:
        return dossier_of(entry) in erased

    def archive_doomed(entry: ErrorEntry) -> bool:
        at = _archived_at(entry)
        return of_erased(entry) or (archived_before is not None and at is not None and at < archived_before)

    return Swept(errors=_drain(bus, "erreurs", of_erased), archive=_drain(bus, "erreurs.archive", archive_doomed))
