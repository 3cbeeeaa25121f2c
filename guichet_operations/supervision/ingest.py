"""What the supervision service takes into its store: the agencies' audit copies, the refusal
notices and the error queue. Each is taken in one store transaction, and acknowledged only once it
committed; a message taken before (its id is in `ingested`) changes nothing.

Nothing in a copy is believed beyond what the service can check. The agency a copy speaks for is
the routing key the broker let its account publish (`<ns>.vers.supervision` holds each agency to
its own name), never what the body says: a copy whose body names another agency is refused. Only
the DT-OFII, the single window that sees every step, describes dossiers; a description from any
other agency is not taken. Records, tasks and journal anchors are filed under the agency that
shipped them; the anchors are checked against the records the store holds (supervision/anchors.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from guichet.key_directory import KeyDirectory
from guichet.refusals import RefusalNotice
from guichet_operations.error_queue import ErrorEntry, _entry
from guichet_operations.supervision import anchors
from guichet_operations.supervision.dossier_row import recompute, upsert_description
from guichet_operations.supervision.retention import erased
from guichet_operations.supervision.store import Store, StoreTransaction
from schemas.base import AGENCIES

log = structlog.get_logger("guichet.supervision")

DESCRIBER = "ofii"  # the single window: the one agency whose description of a dossier is taken


class Refused(ValueError):
    """A message the store does not take: said in the log and counted, then acknowledged."""


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Ingestion:
    store: Store
    # The agencies' public keys, to check their anchors' signatures; None: heads checked only.
    directory: KeyDirectory | None = None
    on_finding: Callable[[anchors.Finding], None] | None = None

    def _first_time(self, tx: StoreTransaction, message_id: str) -> bool:
        inserted = tx.execute(
            "INSERT INTO ingested (message_id, at) VALUES (?, ?) ON CONFLICT (message_id) DO NOTHING",
            message_id,
            now_text(),
        )
        return bool(inserted.rowcount == 1)

    def audit_copy(self, body: bytes | str, agency: str) -> bool:
        """Take an audit copy published under `agency`; False when it had been taken already."""
        if agency not in AGENCIES:
            raise Refused(f"an audit copy under the routing key {agency!r}, which names no agency")
        try:
            copy = json.loads(body)
        except ValueError as exc:
            raise Refused(f"an audit copy from {agency} that is not JSON: {exc}") from None
        if not isinstance(copy, dict) or copy.get("agency") != agency:
            raise Refused(f"an audit copy published by {agency} speaks for {copy.get('agency')!r}")
        received = now_text()
        with self.store.transaction() as tx:
            if not self._first_time(tx, f"audit:{copy['message_id']}"):
                return False
            touched: set[str] = set()
            for r in copy.get("records", []):
                tx.execute(
                    "INSERT INTO records (agency, seq, direction, message_id, dossier_id, type, sender, recipient, "
                    "sent_at, deadline, recorded_at, causation_id, hash, prev_hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agency, seq) DO NOTHING",
                    agency,
                    r["seq"],
                    r["direction"],
                    r["message_id"],
                    r["dossier_id"],
                    r["type"],
                    r["sender"],
                    r["recipient"],
                    r["sent_at"],
                    r.get("deadline"),
                    r["recorded_at"],
                    r.get("causation_id"),
                    r["hash"],
                    r.get("prev_hash"),
                )
                touched.add(r["dossier_id"])
            anchors.take(tx, agency, list(copy.get("anchors") or []), self.directory, received, self.on_finding)
            for t in copy.get("tasks", []):
                _task(tx, agency, t)
                touched.add(t["dossier_id"])
            if agency == DESCRIBER:
                for description in copy.get("dossiers", []):
                    if not erased(tx, description["dossier_id"]):  # its person's data is not taken again
                        upsert_description(tx, description, int(copy["to_seq"]))
            for dossier_id in sorted(touched):
                recompute(tx, dossier_id)
            _source(tx, agency, copy, received)
        return True

    def refusal(self, body: bytes | str) -> bool:
        try:
            notice = RefusalNotice.model_validate_json(body)
        except ValueError as exc:
            raise Refused(f"a refusal notice that is not one: {str(exc)[:200]}") from None
        with self.store.transaction() as tx:
            inserted = tx.execute(
                "INSERT INTO refusals (notice_id, party, refused_by, reason, message_id, dossier_id, refused_at, "
                "notice) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notice_id) DO NOTHING",
                str(notice.notice_id),
                notice.recipient,
                notice.refused_by,
                notice.reason,
                notice.message_id,
                notice.dossier_id,
                notice.refused_at.astimezone(UTC).isoformat(timespec="microseconds"),
                notice.model_dump_json(),
            )
        return bool(inserted.rowcount == 1)

    def failure(self, message: Any) -> bool:
        """A message of the error queue: kept whole (body as it is, headers), then acknowledged by the caller."""
        entry = _entry(message)
        key = entry.filing_id or f"{entry.id}:{entry.last_failure}:{entry.replays}"
        at = now_text()
        with self.store.transaction() as tx:
            inserted = tx.execute(
                "INSERT INTO failures (message_id, dossier_id, type, reason, queue, routing_key, replays, failed_at, "
                "ingested_at, status, headers, body, body_size, ingest_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ingest_key) DO NOTHING",
                entry.id,
                _text(entry.dossier_id),
                _text(entry.type),
                entry.reason or "inconnue",
                _text(entry.queue),
                entry.routing_key,
                entry.replays,
                entry.last_failure or at,
                at,
                "en_attente",
                json.dumps(entry.headers, default=str, ensure_ascii=False),
                entry.body,
                len(entry.body),
                key,
            )
            if inserted.rowcount == 1:
                failure_id = tx.rows("SELECT id FROM failures WHERE ingest_key = ?", key)[0]["id"]
                tx.execute(
                    "INSERT INTO failure_events (failure_id, at, event, person, detail) VALUES (?, ?, ?, ?, ?)",
                    failure_id,
                    at,
                    "deposee",
                    None,
                    f"{entry.reason}: {entry.error}"[:500],
                )
        return bool(inserted.rowcount == 1)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:200]


def _task(tx: StoreTransaction, agency: str, t: dict[str, Any]) -> None:
    from services.ofii.tasks import WAITS_ON_A_PERSON

    tx.execute(
        "INSERT INTO tasks (agency, dossier_id, task, opened_at, deadline, closed_at, employer_side) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agency, dossier_id, task) DO UPDATE SET "
        "opened_at = excluded.opened_at, deadline = excluded.deadline, closed_at = excluded.closed_at",
        agency,
        t["dossier_id"],
        t["task"],
        t["opened_at"],
        t.get("deadline"),
        t.get("closed_at"),
        1 if t["task"] in WAITS_ON_A_PERSON else 0,
    )


def _source(tx: StoreTransaction, agency: str, copy: dict[str, Any], received: str) -> None:
    tx.execute(
        "INSERT INTO sources (agency, seq, head_hash, bus_now, time_scale, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agency) DO UPDATE SET "
        "seq = CASE WHEN excluded.seq > sources.seq THEN excluded.seq ELSE sources.seq END, "
        "head_hash = CASE WHEN excluded.seq >= sources.seq THEN excluded.head_hash ELSE sources.head_hash END, "
        "bus_now = excluded.bus_now, time_scale = excluded.time_scale, received_at = excluded.received_at",
        agency,
        int(copy.get("to_seq") or 0),
        copy.get("head_hash") or "",
        copy["bus_now"],
        float(copy.get("time_scale") or 1.0),
        received,
    )


def entry_of(row: dict[str, Any]) -> ErrorEntry:
    """A stored failure as the error queue's entry, for a replay from the store."""

    class Stored:
        body = bytes(row["body"])
        headers = json.loads(row["headers"])
        properties = {"message_id": row["message_id"]}
        delivery_info = {"routing_key": row["routing_key"]}

    return _entry(Stored())
