"""One transaction on an agency's register: what a delivery reads and writes (its dossier's state,
the processed message ids, the outbox, the journal, the tasks), all or nothing. The SQL is the same
on both databases; the `Dialect` says what differs (placeholders, row locks)."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import datetime
from typing import Any

from guichet import journal as chain
from guichet.envelope import Envelope
from guichet.registers.dialect import Dialect
from guichet.registers.instants import utc_text

# Enough for every message a few batches cause; a reminder due months later is read back instead.
WRITTEN_KEPT = 4096


class Transaction:
    def __init__(self, conn: Any, dialect: Dialect, written: OrderedDict[str, Envelope] | None = None):
        self._conn, self._dialect = conn, dialect
        self._written = written if written is not None else OrderedDict()
        # The journal's head as this transaction last wrote it: read once, then kept here. It holds
        # because no one else appends meanwhile (SQLite: BEGIN IMMEDIATE; PostgreSQL: the head row
        # stays locked FOR UPDATE until the transaction ends); undone with a savepoint's rollback.
        self._head: tuple[int, str] | None = None
        self._head_at_savepoint: tuple[int, str] | None = None
        self._head_written: tuple[int, str] | None = None

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def finish(self) -> None:
        """Before the commit: the journal's head row gets the chain's end once, not once per record."""
        if self._head is not None and self._head != self._head_written:
            self.execute("UPDATE journal_head SET records = ?, hash = ? WHERE id = 1", *self._head)
            self._head_written = self._head

    def savepoint(self) -> None:
        self.execute("SAVEPOINT delivery")
        self._head_at_savepoint = self._head

    def rollback_to_savepoint(self) -> None:
        self.execute("ROLLBACK TO SAVEPOINT delivery")
        self.execute("RELEASE SAVEPOINT delivery")
        self._head = self._head_at_savepoint  # the rolled-back records are no longer the chain's end

    def release_savepoint(self) -> None:
        self.execute("RELEASE SAVEPOINT delivery")

    def execute(self, sql: str, *args: Any) -> Any:
        return self._conn.execute(self._dialect.prepare(sql), args)

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        cur = self.execute(sql, *args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def already_processed(self, message_id: str) -> bool:
        return bool(self.rows("SELECT 1 AS x FROM processed WHERE message_id = ?", message_id))

    def received_body_hash(self, message_id: str) -> str | None:
        """The body hash journaled when this message id was first received, if it was."""
        rows = self.rows(
            "SELECT body_hash FROM journal WHERE message_id = ? AND direction = 'in' ORDER BY seq LIMIT 1", message_id
        )
        return rows[0]["body_hash"] if rows else None

    def journaled(self, message_id: str, direction: str, body_hash: str) -> bool:
        return bool(
            self.rows(
                "SELECT 1 AS x FROM journal WHERE message_id = ? AND direction = ? AND body_hash = ?",
                message_id,
                direction,
                body_hash,
            )
        )

    def claim_processed(self, envelope: Envelope, now: datetime) -> bool:
        """Record the message id as processed; False when it was already (a duplicate). One statement
        for the check and the mark: on PostgreSQL a second process inserting the same id waits for
        the first one's commit, then finds it there."""
        inserted = self.execute(
            "INSERT INTO processed (message_id, type, processed_at) VALUES (?, ?, ?) "
            "ON CONFLICT (message_id) DO NOTHING",
            str(envelope.message_id),
            envelope.type,
            utc_text(now),
        )
        return bool(inserted.rowcount == 1)

    def unclaim_processed(self, envelope: Envelope) -> None:
        """A message refused after its id was claimed is not processed: a replay must find it new."""
        self.execute("DELETE FROM processed WHERE message_id = ?", str(envelope.message_id))

    def load_state(self, dossier_id: str, for_update: bool = False) -> str | None:
        """The dossier's state as its JSON text, for the state model to read directly.

        `for_update`: on PostgreSQL, lock the dossier's row until the transaction ends, so that a
        second process of the agency handling the same dossier waits and then reads this one's
        state (no lost update). SQLite needs no lock: BEGIN IMMEDIATE already serialises writers."""
        lock = self._dialect.row_lock if for_update else ""
        row = self.execute(f"SELECT state FROM dossiers WHERE dossier_id = ?{lock}", dossier_id).fetchone()
        return row[0] if row else None

    def save_state(self, dossier_id: str, state_json: str, now: datetime) -> None:
        """One statement whether the dossier is new here or not."""
        self.execute(
            "INSERT INTO dossiers (dossier_id, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (dossier_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            dossier_id,
            state_json,
            utc_text(now),
        )

    def add_outbox(
        self, envelope: Envelope, due_at: datetime, extra_headers: dict[str, str] | None = None, task: str | None = None
    ) -> None:
        """`extra_headers`: what travels beside the envelope's own headers (the trace context); `task`:
        a reminder about that task, withdrawn unsent when the task closes."""
        message_id = str(envelope.message_id)
        self.execute(
            "INSERT INTO outbox (message_id, dossier_id, routing_key, type, body, headers, due_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            message_id,
            envelope.dossier_id,
            envelope.routing_key,
            envelope.type,
            envelope.body().decode(),
            json.dumps({**envelope.headers(), **(extra_headers or {})}),
            utc_text(due_at),
        )
        if task is not None:
            self.execute(
                "INSERT INTO reminders (message_id, dossier_id, task) VALUES (?, ?, ?)",
                message_id,
                envelope.dossier_id,
                task,
            )
        # Kept even if this transaction rolls back: it is looked up only for a row that is in the outbox.
        self._written[message_id] = envelope
        if len(self._written) > WRITTEN_KEPT:
            self._written.popitem(last=False)

    def journal(
        self,
        direction: str,
        envelope: Envelope,
        now: datetime,
        body: bytes | None = None,
        received: bytes | str | None = None,
        state: str | None = None,
    ) -> dict[str, Any]:
        """Append to the hash chain (the record appended is returned); the head moves in the same
        transaction. `body`: the envelope's JSON when the caller holds it already (an outbox row's,
        the bytes published), rather than written again; `received`: the bytes as they were
        delivered, when they came from another party; `state`: the dossier's state JSON this
        message left. The message's bytes and the state are kept beside the record
        (journal_messages), proven by its hash (guichet/journal.py)."""
        if self._head is None:
            # Locked (PostgreSQL's row lock; SQLite's BEGIN IMMEDIATE already holds the file): two
            # processes of one agency append to one chain, one after the other.
            head = self.rows(f"SELECT records, hash FROM journal_head WHERE id = 1{self._dialect.row_lock}")
            if not head:
                self.execute("INSERT INTO journal_head (id, records, hash) VALUES (1, 0, ?)", chain.GENESIS)
            self._head = self._head_written = (head[0]["records"], head[0]["hash"]) if head else (0, chain.GENESIS)
        records, previous = self._head
        content = body if body is not None else envelope.body()
        message = received if received is not None else content
        kept = message.decode() if isinstance(message, bytes) else message
        record: dict[str, Any] = {
            "seq": records + 1,
            "direction": direction,
            "message_id": str(envelope.message_id),
            "dossier_id": envelope.dossier_id,
            "type": envelope.type,
            "sender": envelope.sender.agency,
            "recipient": envelope.recipient,
            "sent_at": utc_text(envelope.sent_at),
            "deadline": utc_text(envelope.deadline) if envelope.deadline else None,
            "recorded_at": utc_text(now),
            "body_hash": chain.body_hash(content),
            "prev_hash": previous,
            "message_hash": chain.text_hash(kept),
            "state_hash": chain.text_hash(state),
            chain.FORM: chain.CURRENT_FORM,
        }
        record["hash"] = chain.record_hash(record)
        self.execute(
            f"INSERT INTO journal ({', '.join(record)}) VALUES ({', '.join('?' * len(record))})", *record.values()
        )
        self.execute("INSERT INTO journal_messages (seq, body, state) VALUES (?, ?, ?)", record["seq"], kept, state)
        self._head = (record["seq"], record["hash"])  # written to journal_head by finish(), before the commit
        return record

    def open_task(self, dossier_id: str, task: str, opened_at: datetime, deadline: datetime | None) -> None:
        # Opened again: the reminders of its earlier opening give way to those of this one.
        self.withdraw_reminders(dossier_id, task)
        self.execute(
            "INSERT INTO tasks (dossier_id, task, opened_at, deadline) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (dossier_id, task) DO UPDATE SET opened_at = excluded.opened_at, "
            "deadline = excluded.deadline, closed_at = NULL",
            dossier_id,
            task,
            utc_text(opened_at),
            utc_text(deadline) if deadline else None,
        )

    def task_open(self, dossier_id: str, task: str) -> bool:
        return bool(
            self.rows(
                "SELECT 1 AS x FROM tasks WHERE dossier_id = ? AND task = ? AND closed_at IS NULL", dossier_id, task
            )
        )

    def close_task(self, dossier_id: str, task: str, now: datetime) -> None:
        self.execute(
            "UPDATE tasks SET closed_at = ? WHERE dossier_id = ? AND task = ? AND closed_at IS NULL",
            utc_text(now),
            dossier_id,
            task,
        )
        self.withdraw_reminders(dossier_id, task)

    def close_all_tasks(self, dossier_id: str, now: datetime) -> None:
        self.execute(
            "UPDATE tasks SET closed_at = ? WHERE dossier_id = ? AND closed_at IS NULL", utc_text(now), dossier_id
        )
        self.withdraw_reminders(dossier_id)

    def withdraw_reminders(self, dossier_id: str, task: str | None = None) -> None:
        """Remove the unsent reminders of a task (of every task without one); sent ones stay journaled."""
        where, args = (
            ("dossier_id = ?", [dossier_id]) if task is None else ("dossier_id = ? AND task = ?", [dossier_id, task])
        )
        # The ids given as values: with `IN (SELECT ...)` SQLite walks every unsent row (the index on
        # published_at), and the reminders still due are most of the outbox.
        ids = [
            message_id
            for (message_id,) in self.execute(
                f"DELETE FROM reminders WHERE {where} RETURNING message_id", *args
            ).fetchall()
        ]
        if ids:
            self.execute(
                f"DELETE FROM outbox WHERE message_id IN ({', '.join('?' * len(ids))}) AND published_at IS NULL", *ids
            )
