"""Replaying a failure the supervision store holds: the stored message goes back to the queue it
failed in, through the replay exchange, as `guichet errors replay` sends it (with the history of its
failures); then the store says it was replayed, by whom. The failure is claimed first, so that two
operators pressing "rejouer" at once send it once; if the broker does not take it, the claim is
undone and the failure stays where it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from guichet.bus import Bus
from guichet_operations.error_queue import ErrorQueue
from guichet_operations.supervision.ingest import entry_of
from guichet_operations.supervision.store import Store

REPLAYABLE = ("en_attente", "archive")
CLAIMED = "rejeu_en_cours"
REPLAYED = "rejoue"


class NotReplayable(ValueError):
    """Said to the operator: the failure is unknown, or already replayed."""


@dataclass
class StoredReplay:
    store: Store
    bus: Callable[[], Bus]  # the supervision account's connection, opened when first needed

    def replay(self, failure_id: int, person: str) -> None:
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        with self.store.transaction() as tx:
            rows = tx.rows("SELECT * FROM failures WHERE id = ?", failure_id)
            if not rows:
                raise NotReplayable(f"aucune erreur n° {failure_id}")
            if rows[0]["status"] not in REPLAYABLE:
                raise NotReplayable(f"l'erreur n° {failure_id} est déjà rejouée (état : {rows[0]['status']})")
            tx.execute("UPDATE failures SET status = ? WHERE id = ?", CLAIMED, failure_id)
        previous = rows[0]["status"]
        try:
            ErrorQueue(self.bus()).replay(entry_of(rows[0]))
        except BaseException:
            with self.store.transaction() as tx:
                tx.execute("UPDATE failures SET status = ? WHERE id = ? AND status = ?", previous, failure_id, CLAIMED)
            raise
        with self.store.transaction() as tx:
            tx.execute("UPDATE failures SET status = ? WHERE id = ?", REPLAYED, failure_id)
            tx.execute(
                "INSERT INTO failure_events (failure_id, at, event, person, detail) VALUES (?, ?, ?, ?, ?)",
                failure_id,
                at,
                "rejouee",
                person,
                f"renvoyée vers {rows[0]['queue'] or 'sa file'}",
            )
