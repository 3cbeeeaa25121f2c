"""An agency's own register: its dossiers, the message ids it processed, its outbox, its journal
and its open tasks. SQLite by default (sqlite.py), PostgreSQL, one schema per agency, when given a
URL (postgres.py); what is written here is the same on both, the `Dialect` saying what differs.

A state change, the id of the message that caused it and the messages it causes are written in
one transaction: a redelivered message finds its id and changes nothing, and a crash before
publishing leaves the outbox to be sent again.

`Register(url, agency)` gives the implementation for the URL; opening it brings its schema to this
version or refuses it (migrations.py).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guichet import journal as chain
from guichet.envelope import Envelope
from guichet.journal_proof import verify_register
from guichet.registers.dialect import Dialect
from guichet.registers.instants import from_text, utc_text
from guichet.registers.migrations import Upgrade, migrate
from guichet.registers.transaction import Transaction

if TYPE_CHECKING:
    from guichet.key_directory import KeyDirectory


class Register:
    dialect: Dialect
    _conn: Any

    def __new__(cls, url: str, *args: Any, **kwargs: Any) -> Register:
        # `Register(url, agency)` keeps working as it always has: the URL picks the implementation.
        if cls is Register:
            from guichet.registers import implementation

            cls = implementation(url)
        return super().__new__(cls)

    def __init__(self, url: str, agency: str, schema: str | None = None, durable: bool = True, upgrade: bool = False):
        """`durable=False`: a throwaway register (a simulation's, in a folder deleted at its end),
        which one connection alone uses; the implementation may trade crash safety for speed, never
        all-or-nothing transactions. `upgrade`: also run the migration steps not run on open (the
        `guichet register upgrade` command)."""
        self.url, self.agency = url, agency
        # The envelopes this process put in the outbox lately, by message id: the flush that sends
        # them need not parse each row's body back into the envelope it was written from.
        self._written: OrderedDict[str, Envelope] = OrderedDict()
        self._conn = self._connect(schema, durable)
        with self.transaction() as tx:
            self.migration: Upgrade = migrate(tx, self.dialect, agency, self.upgrade_command(), upgrading=upgrade)

    @classmethod
    def for_agency(
        cls,
        agency: str,
        data_dir: str | Path | None = None,
        database_url: str | None = None,
        durable: bool = True,
        upgrade: bool = False,
    ) -> Register:
        if database_url:
            return cls(database_url, agency, upgrade=upgrade)
        return cls(str(Path(data_dir or "data") / f"{agency}.sqlite3"), agency, durable=durable, upgrade=upgrade)

    # What each implementation provides.
    def _connect(self, schema: str | None, durable: bool) -> Any:
        raise NotImplementedError

    def _atomic(self) -> AbstractContextManager[Any]:
        """Begin a transaction; commit it at the end of the block, roll it back on an exception."""
        raise NotImplementedError

    def upgrade_command(self) -> str:
        """The command that upgrades this register, as a refusal to open it names it."""
        raise NotImplementedError

    def secure_delete(self, on: bool) -> None:
        """While on, what this connection deletes is overwritten, not left in free space (an erasure)."""
        raise NotImplementedError

    def compact(self, tables: tuple[str, ...]) -> None:
        """After an erasure: rid the database's files of the deleted rows' old versions."""
        raise NotImplementedError

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._atomic():
            tx = Transaction(self._conn, self.dialect, self._written)
            yield tx
            tx.finish()

    def outbox_envelope(self, row: dict[str, Any]) -> Envelope:
        """The envelope of an outbox row: the one this process wrote, else (written before a restart,
        by another process of the agency, or long ago) read back from the row's body."""
        envelope = self._written.pop(row["message_id"], None)
        return envelope if envelope is not None else Envelope.model_validate_json(row["body"])

    def read(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """One SELECT on its own: a read takes no write lock (SQLite's BEGIN IMMEDIATE would) and sees
        the last committed state, as a single statement does on both databases in autocommit."""
        return Transaction(self._conn, self.dialect).rows(sql, *args)

    # Reads, and the outbox's bookkeeping in a transaction of its own.
    def due_outbox(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        return self.read(
            "SELECT id, message_id, routing_key, type, body, headers FROM outbox "
            "WHERE published_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            utc_text(now),
            limit,
        )

    def claim_outbox(
        self, now: datetime, owner: str, claimed_at: datetime, stale_before: datetime, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Take the due rows no other publisher holds (or whose claim went stale: its process died
        before the confirm), so that two processes of one agency do not both publish a row. On
        PostgreSQL a row another publisher is claiming is skipped (SKIP LOCKED); on SQLite the
        claim's BEGIN IMMEDIATE serialises the two."""
        lock = self.dialect.skip_locked
        with self.transaction() as tx:
            rows = tx.rows(
                "SELECT id, message_id, routing_key, type, body, headers FROM outbox "
                "WHERE published_at IS NULL AND due_at <= ? AND (claimed_at IS NULL OR claimed_at < ? "
                f"OR claimed_by = ?) ORDER BY due_at, id LIMIT ?{lock}",
                utc_text(now),
                utc_text(stale_before),
                owner,
                limit,
            )
            for row in rows:
                tx.execute(
                    "UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id = ?",
                    owner,
                    utc_text(claimed_at),
                    row["id"],
                )
        return rows

    def mark_all_published(self, published: list[tuple[dict[str, Any], Envelope]], now: datetime) -> None:
        """Outbox rows confirmed together by the broker, marked sent and journaled in one transaction."""
        if not published:
            return
        with self.transaction() as tx:
            for row, envelope in published:
                tx.execute("UPDATE outbox SET published_at = ? WHERE id = ?", utc_text(now), row["id"])
                tx.journal("out", envelope, now, row["body"].encode())

    def next_due(self) -> datetime | None:
        """When the next outbox row falls due (a retry waits in the transport's queues, not here)."""
        due = [
            r["due"] for r in self.read("SELECT MIN(due_at) AS due FROM outbox WHERE published_at IS NULL") if r["due"]
        ]
        return from_text(min(due)) if due else None

    def pending_outbox(self) -> int:
        with self.transaction() as tx:
            return int(tx.rows("SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL")[0]["n"])

    def states(self) -> list[tuple[str, dict[str, Any]]]:
        with self.transaction() as tx:
            rows = tx.rows("SELECT dossier_id, state FROM dossiers ORDER BY dossier_id")
        return [(r["dossier_id"], json.loads(r["state"])) for r in rows]

    def iter_states(self, batch: int = 1000) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every dossier's state, read a batch at a time: a year of dossiers never sits in memory."""
        cursor = self._conn.cursor()
        try:
            cursor.execute("SELECT dossier_id, state FROM dossiers ORDER BY dossier_id")
            while rows := cursor.fetchmany(batch):
                for dossier_id, state in rows:
                    yield dossier_id, json.loads(state)
        finally:
            cursor.close()

    def dossier_ids(self) -> set[str]:
        return {row["dossier_id"] for row in self.read("SELECT dossier_id FROM dossiers")}

    def state(self, dossier_id: str) -> dict[str, Any] | None:
        rows = self.read("SELECT state FROM dossiers WHERE dossier_id = ?", dossier_id)
        return json.loads(rows[0]["state"]) if rows else None

    def journal_of(self, dossier_id: str) -> list[dict[str, Any]]:
        with self.transaction() as tx:
            return tx.rows("SELECT * FROM journal WHERE dossier_id = ? ORDER BY seq", dossier_id)

    def verify_journal(self, directory: KeyDirectory | None = None) -> chain.Verdict:
        """The chain and its anchors, streamed (guichet/journal_proof.py); `directory`: check the
        anchors' signatures too."""
        return verify_register(self.read, self.agency, directory)

    def open_tasks(self) -> list[dict[str, Any]]:
        with self.transaction() as tx:
            return tx.rows("SELECT * FROM tasks WHERE closed_at IS NULL ORDER BY deadline, dossier_id")
