"""How long the supervision store keeps what it took. The store is a working copy for operators,
not the record of the dossier (each agency's register and journal are): once a dossier is closed
and a period has passed, its rows here are deleted, with its journal records, tasks, refusal
notices and settled failures (replayed or archived: a failure still waiting is never deleted). The
journal of operators' actions has a period of its own: it answers "who did what", a question asked
later than the dossier's.

Deleted in batches, so that a first run over a large store never holds the store for long.

`erase` removes the named dossiers whatever their state (an erasure decision, RGPD art. 17, or the
registers' retention run: docs/retention.md): their rows, their failures (bodies included), with
one `erasures` row each and one entry in the actions journal saying who, when and why; then the
freed space is cleared (Store.compact). What it keeps holds no personal data."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from guichet_operations.console.clock import utc_text
from guichet_operations.supervision.store import Store, StoreTransaction

log = structlog.get_logger("guichet.supervision")

DEFAULT_DAYS = 365
DEFAULT_ACTIONS_DAYS = 365
BATCH = 500
EVERY_SECONDS = 3600.0
SETTLED = ("rejoue", "archive")
# The store's tables an erasure deletes from, and so compacts afterwards.
ERASED_FROM = ("records", "tasks", "refusals", "failure_events", "failures", "dossiers")


def erased(tx: StoreTransaction, dossier_id: str) -> bool:
    return bool(tx.rows("SELECT 1 AS x FROM erasures WHERE dossier_id = ?", dossier_id))


def erase(store: Store, dossier_ids: list[str], kind: str, reason: str, person: str, now: datetime) -> int:
    """Erase each dossier from the store and journal it (who, when, why); how many the store held."""
    held, at = 0, utc_text(now)
    for dossier_id in dossier_ids:
        with store.transaction() as tx:
            rows = tx.rows("SELECT 1 AS x FROM dossiers WHERE dossier_id = ?", dossier_id)
            failures = [r["id"] for r in tx.rows("SELECT id FROM failures WHERE dossier_id = ?", dossier_id)]
            held += bool(rows or failures)
            for failure_id in failures:
                tx.execute("DELETE FROM failure_events WHERE failure_id = ?", failure_id)
            for table in ("records", "tasks", "refusals", "failures", "dossiers"):
                tx.execute(f"DELETE FROM {table} WHERE dossier_id = ?", dossier_id)
            tx.execute(
                "INSERT INTO erasures (dossier_id, erased_at, kind, reason) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (dossier_id) DO NOTHING",
                dossier_id,
                at,
                kind,
                reason,
            )
            tx.execute(
                "INSERT INTO actions (at, person, role, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                at,
                person,
                kind,
                "dossier.erase",
                dossier_id,
                reason[:500],
            )
    if dossier_ids:
        store.compact(ERASED_FROM)
    return held


@dataclass
class Retention:
    store: Store
    days: int = DEFAULT_DAYS
    actions_days: int = DEFAULT_ACTIONS_DAYS
    every_seconds: float = EVERY_SECONDS
    _last: float = field(default=-1e9)

    def __post_init__(self) -> None:
        if self.days < 1 or self.actions_days < 1:
            raise ValueError("a retention period is at least one day")

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.every_seconds

    def run(self, now: datetime | None = None) -> dict[str, int]:
        """Delete what is past its period; returns how many dossiers, failures and actions went."""
        self._last = time.monotonic()
        now = now or datetime.now(UTC)
        cutoff = utc_text(now - timedelta(days=self.days))
        dossiers = self._dossiers(cutoff)
        settled = ", ".join("?" for _ in SETTLED)
        failures = self._batched(
            f"SELECT id FROM failures WHERE status IN ({settled}) AND failed_at < ? LIMIT {BATCH}",
            (*SETTLED, cutoff),
            ("DELETE FROM failure_events WHERE failure_id IN ({})", "DELETE FROM failures WHERE id IN ({})"),
        )
        actions = self._batched(
            f"SELECT id FROM actions WHERE at < ? LIMIT {BATCH}",
            (utc_text(now - timedelta(days=self.actions_days)),),
            ("DELETE FROM actions WHERE id IN ({})",),
        )
        # Notices about no dossier, and the ids kept to drop redeliveries (none comes back after a period).
        self._batched(
            f"SELECT notice_id FROM refusals WHERE refused_at < ? LIMIT {BATCH}",
            (cutoff,),
            ("DELETE FROM refusals WHERE notice_id IN ({})",),
        )
        self._batched(
            f"SELECT message_id FROM ingested WHERE at < ? LIMIT {BATCH}",
            (cutoff,),
            ("DELETE FROM ingested WHERE message_id IN ({})",),
        )
        gone = {"dossiers": dossiers, "failures": failures, "actions": actions}
        if any(gone.values()):
            log.info("retention: deleted what was past its period", **gone)
        return gone

    def _dossiers(self, cutoff: str) -> int:
        return self._batched(
            f"SELECT dossier_id FROM dossiers WHERE closed = 1 AND updated_at < ? LIMIT {BATCH}",
            (cutoff,),
            (
                "DELETE FROM records WHERE dossier_id IN ({})",
                "DELETE FROM tasks WHERE dossier_id IN ({})",
                "DELETE FROM refusals WHERE dossier_id IN ({})",
                "DELETE FROM dossiers WHERE dossier_id IN ({})",
            ),
        )

    def _batched(self, select: str, args: tuple, deletes: tuple[str, ...]) -> int:
        total = 0
        while True:
            with self.store.transaction() as tx:
                keys = [next(iter(r.values())) for r in tx.rows(select, *args)]
                if not keys:
                    return total
                marks = ", ".join("?" for _ in keys)
                for sql in deletes:
                    tx.execute(sql.format(marks), *keys)
            total += len(keys)
