"""Audit copies: what an agency's journal records, shipped to the supervision service.

The journal is the agency's evidence of every message sent and received; the supervision service
(ServiceControl's audit ingestion is the model) keeps a store of its own from copies of it, so that
no operator tool opens an agency's register. The copies are read from the journal after it
committed, not written beside each delivery: shipping costs the agency one read and one publish per
batch of records, and a copy can never tell of a record that was rolled back.

Each copy covers the records after the last one shipped (`from_seq` to `to_seq`, at most
`BATCH_RECORDS`), with, for each dossier they touch, the agency's tasks as they stand and, where the
agency describes its dossiers for supervision (`AgencyDefinition.supervision`), that description.
The cursor moves in the register only once the broker confirmed the copy: a copy is sent at least
once, and its id (`<agency>:<to_seq>`) lets the store take it once. While the supervision service
is down its queue holds the copies.

What a copy carries, and why (no more personal data than supervision needs):
- journal records: ids, type, sender, recipient and instants, the record's hash and the one before
  it, and the `causation_id` of a message the agency sent (read from its outbox): the timeline,
  the sequence diagram and the lag; the links let the store see a chain rewritten. No message body.
- the journal's anchors not shipped yet (guichet/journal_anchor.py), up to the copy's last record:
  the agency's signed heads, which the store keeps and checks its records against.
- tasks: name, opened, legal deadline, closed: the deadline board.
- the agency's description of a dossier, whatever its `supervision` callable returns (the DT-OFII's
  says which fields it gives: services/supervision_view.py).
- the bus clock (`bus_now`, `time_scale`) and `shipped_at` in real time: the console shows time as
  the bus counts it, and the transit time of a copy is the supervision lag.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from guichet import journal as chain
from guichet import journal_anchor as anchor
from guichet.clock import Clock
from guichet.register import Register, Transaction
from guichet.registers.instants import utc_text
from guichet.transport.base import Transport

log = structlog.get_logger("guichet.audit")

COPY_TYPE = "audit_copy"
FORMAT = 1
BATCH_RECORDS = 500
# Copies one loop turn ships at most: a backlog (a supervision queue re-created, a long outage of
# the broker) is caught up over several turns, without holding the agency's own deliveries.
COPIES_PER_TURN = 10
# An idle agency still ships a copy this often (no records): the store then knows it is alive
# and how its clock stands.
IDLE_SECONDS = 15.0
CONTENT_TYPE = "application/vnd.guichet.audit+json"
# The journal's own fields but the body's hash, and the record's hash: what a copy tells of a record
# (its link to the record before included, so that the store sees a chain recomputed after it took it).
RECORD_FIELDS = (*(f for f in chain.FIELDS if f != "body_hash"), "hash")

Describe = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class AuditShipper:
    agency: str
    register: Register
    clock: Clock
    describe: Describe | None = None
    every_seconds: float = 1.0
    _last_try: float = 0.0
    _last_sent: float = 0.0

    def cursor(self) -> int:
        rows = self.register.read("SELECT seq FROM audit_cursor WHERE id = 1")
        return int(rows[0]["seq"]) if rows else 0

    def due(self) -> bool:
        return time.monotonic() - self._last_try >= self.every_seconds

    def ship(self, bus: Transport) -> int:
        """Ship what the journal holds beyond the cursor, a batch a copy; the records shipped."""
        self._last_try = time.monotonic()
        shipped = 0
        for _ in range(COPIES_PER_TURN):
            copy = self.next_copy()
            if copy is None:
                if time.monotonic() - self._last_sent >= IDLE_SECONDS:
                    idle = self._idle_copy()
                    self._publish(bus, idle)
                    self._mark_shipped(idle["anchors"])
                return shipped
            self._publish(bus, copy)
            self._move_cursor(copy["to_seq"], copy["anchors"])
            shipped += len(copy["records"])
        return shipped

    def next_copy(self) -> dict[str, Any] | None:
        after = self.cursor()
        records = self.register.read(
            f"SELECT {', '.join(RECORD_FIELDS)} FROM journal WHERE seq > ? ORDER BY seq LIMIT ?", after, BATCH_RECORDS
        )
        if not records:
            return None
        dossier_ids = sorted({r["dossier_id"] for r in records})
        causes = self._causes([r["message_id"] for r in records if r["direction"] == "out"])
        for record in records:
            record["causation_id"] = causes.get(record["message_id"])
        return {
            **self._header(),
            "message_id": f"{self.agency}:{records[-1]['seq']}",
            "from_seq": records[0]["seq"],
            "to_seq": records[-1]["seq"],
            "head_hash": records[-1]["hash"],
            "records": records,
            "anchors": self._anchors(records[-1]["seq"]),
            "tasks": self._in(
                "SELECT dossier_id, task, opened_at, deadline, closed_at FROM tasks WHERE dossier_id IN ({})",
                dossier_ids,
            ),
            "dossiers": self._descriptions(dossier_ids),
        }

    def _header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "agency": self.agency,
            "bus_now": utc_text(self.clock.now()),
            "time_scale": float(getattr(self.clock, "scale", 1.0)),
            "shipped_at": utc_text(datetime.now(UTC)),
        }

    def _idle_copy(self) -> dict[str, Any]:
        seq = self.cursor()
        return {
            **self._header(),
            "message_id": f"{self.agency}:{seq}:{time.time_ns()}",
            "from_seq": seq + 1,
            "to_seq": seq,
            "head_hash": None,
            "records": [],
            "anchors": self._anchors(seq),
            "tasks": [],
            "dossiers": [],
        }

    def _anchors(self, up_to: int) -> list[dict[str, Any]]:
        """The anchors not shipped yet of records this copy or an earlier one carries: one signed by
        another process of the agency after its records were shipped goes with the next copy."""
        return self.register.read(
            f"SELECT {', '.join(anchor.FIELDS)} FROM journal_anchors "
            "WHERE shipped_at IS NULL AND seq <= ? ORDER BY seq",
            up_to,
        )

    def _in(self, sql: str, values: list[str]) -> list[dict[str, Any]]:
        return self.register.read(sql.format(", ".join("?" * len(values))), *values) if values else []

    def _causes(self, message_ids: list[str]) -> dict[str, str | None]:
        causes: dict[str, str | None] = {}
        for row in self._in("SELECT message_id, body FROM outbox WHERE message_id IN ({})", message_ids):
            try:
                causes[row["message_id"]] = json.loads(row["body"]).get("causation_id")
            except ValueError:
                continue
        return causes

    def _descriptions(self, dossier_ids: list[str]) -> list[dict[str, Any]]:
        if self.describe is None:
            return []
        described = []
        for row in self._in("SELECT dossier_id, state, updated_at FROM dossiers WHERE dossier_id IN ({})", dossier_ids):
            try:
                description = self.describe(json.loads(row["state"]))
            except Exception as exc:  # a state this version cannot describe must not stop the copies
                log.warning("dossier not described for supervision", dossier_id=row["dossier_id"], error=repr(exc))
                continue
            described.append({"dossier_id": row["dossier_id"], "updated_at": row["updated_at"], **description})
        return described

    def _publish(self, bus: Transport, copy: dict[str, Any]) -> None:
        bus.publish(
            json.dumps(copy, ensure_ascii=False, separators=(",", ":")),
            self.agency,
            # As a refusal notice does: its kind and format in the flow's `type` and `version` headers.
            {"type": COPY_TYPE, "version": FORMAT, "sender": self.agency},
            copy["message_id"],
            exchange=bus.topology.supervision_exchange,
            content_type=CONTENT_TYPE,
        )
        self._last_sent = time.monotonic()

    def _move_cursor(self, seq: int, anchors: list[dict[str, Any]]) -> None:
        with self.register.transaction() as tx:
            tx.execute(
                "INSERT INTO audit_cursor (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
                seq,
            )
            _shipped(tx, anchors)

    def _mark_shipped(self, anchors: list[dict[str, Any]]) -> None:
        if anchors:
            with self.register.transaction() as tx:
                _shipped(tx, anchors)


def _shipped(tx: Transaction, anchors: list[dict[str, Any]]) -> None:
    for a in anchors:
        tx.execute("UPDATE journal_anchors SET shipped_at = ? WHERE seq = ?", utc_text(datetime.now(UTC)), a["seq"])
