"""An agency's own register: its dossiers, the message ids it processed, its outbox, its journal
and its open tasks. SQLite by default, PostgreSQL (one schema per agency) when given a URL.

A state change, the id of the message that caused it and the messages it causes are written in
one transaction: a redelivered message finds its id and changes nothing, and a crash before
publishing leaves the outbox to be sent again.
"""
from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from contextlib import contextmanager
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from guichet import journal as chain
from guichet.envelope import Envelope
from guichet.register_schema import SCHEMA
from guichet.timeutil import paris


@lru_cache(maxsize=4096)
def utc_text(moment: datetime) -> str:
    """Sortable text for an instant: the same format everywhere so that text order is time order."""
    # isoformat: the same text as strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), in half the time. Cached:
    # one handling writes the same few instants a dozen times (equal instants give equal text).
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    return None if text is None else paris(datetime.fromisoformat(text))


class Register:
    def __init__(self, url: str, agency: str, schema: str | None = None, durable: bool = True):
        """`durable=False`: a throwaway SQLite register (a simulation's, in a folder deleted at its
        end), which one connection alone uses: no flush to disk at each commit, the rollback journal
        in memory rather than a write-ahead log beside it, and the file lock taken once rather than
        at every transaction. Its transactions and savepoints stay all-or-nothing."""
        self.url, self.agency = url, agency
        # The envelopes this process put in the outbox lately, by message id: the flush that sends
        # them need not parse each row's body back into the envelope it was written from.
        self._written: OrderedDict[str, Envelope] = OrderedDict()
        if url.startswith(("postgresql://", "postgres://")):
            import psycopg
            self._conn = psycopg.connect(url, autocommit=True)
            self._param = "%s"
            self.schema = schema or agency
            with self._conn.cursor() as cur:
                # An account granted its own schema alone may not create one: create only what is missing.
                cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                cur.execute(f'SET search_path TO "{self.schema}"')
            serial = "BIGSERIAL"
        else:
            path = url.removeprefix("sqlite:///") if url.startswith("sqlite:") else url
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if durable:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            else:
                self._conn.execute("PRAGMA locking_mode=EXCLUSIVE")
                self._conn.execute("PRAGMA journal_mode=MEMORY")
                self._conn.execute("PRAGMA synchronous=OFF")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._param = "?"
            serial = "INTEGER"
        with self.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement.format(serial=serial))
            # A register made before records named their hash form: its records stay legacy (NULL).
            if chain.FORM not in [d[0] for d in tx.execute("SELECT * FROM journal LIMIT 0").description]:
                tx.execute(f"ALTER TABLE journal ADD COLUMN {chain.FORM} TEXT")
            # A register made before outbox rows were claimed by a publisher: unclaimed rows.
            if "claimed_by" not in [d[0] for d in tx.execute("SELECT * FROM outbox LIMIT 0").description]:
                tx.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
                tx.execute("ALTER TABLE outbox ADD COLUMN claimed_at TEXT")

    @classmethod
    def for_agency(cls, agency: str, data_dir: str | Path | None = None, database_url: str | None = None,
                   durable: bool = True) -> "Register":
        if database_url:
            return cls(database_url, agency)
        return cls(str(Path(data_dir or "data") / f"{agency}.sqlite3"), agency, durable=durable)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator["Transaction"]:
        if self._param == "?":
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                tx = Transaction(self._conn, self._param, self._written)
                yield tx
                tx.finish()
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        else:
            with self._conn.transaction():
                tx = Transaction(self._conn, self._param, self._written)
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
        return Transaction(self._conn, self._param).rows(sql, *args)

    # Reads, and the outbox's bookkeeping in a transaction of its own.
    def due_outbox(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        return self.read("SELECT id, message_id, routing_key, type, body, headers FROM outbox "
                         "WHERE published_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
                         utc_text(now), limit)

    def claim_outbox(self, now: datetime, owner: str, claimed_at: datetime, stale_before: datetime,
                     limit: int = 200) -> list[dict[str, Any]]:
        """Take the due rows no other publisher holds (or whose claim went stale: its process died
        before the confirm), so that two processes of one agency do not both publish a row. On
        PostgreSQL a row another publisher is claiming is skipped (SKIP LOCKED); on SQLite the
        claim's BEGIN IMMEDIATE serialises the two."""
        lock = " FOR UPDATE SKIP LOCKED" if self._param != "?" else ""
        with self.transaction() as tx:
            rows = tx.rows("SELECT id, message_id, routing_key, type, body, headers FROM outbox "
                           "WHERE published_at IS NULL AND due_at <= ? AND (claimed_at IS NULL OR claimed_at < ? "
                           f"OR claimed_by = ?) ORDER BY due_at, id LIMIT ?{lock}", utc_text(now),
                           utc_text(stale_before), owner, limit)
            for row in rows:
                tx.execute("UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id = ?", owner,
                           utc_text(claimed_at), row["id"])
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
        due = [r["due"] for r in self.read(
            "SELECT MIN(due_at) AS due FROM outbox WHERE published_at IS NULL UNION ALL "
            "SELECT MIN(due_at) AS due FROM delayed WHERE published_at IS NULL") if r["due"]]
        return from_text(min(due)) if due else None

    def delay(self, routing_key: str, body: bytes | str, headers: dict, due_at: datetime) -> None:
        text = body.decode() if isinstance(body, bytes) else body
        with self.transaction() as tx:
            tx.execute("INSERT INTO delayed (routing_key, body, headers, due_at) VALUES (?, ?, ?, ?)",
                       routing_key, text, json.dumps(headers, default=str), utc_text(due_at))

    def due_delayed(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        return self.read("SELECT id, routing_key, body, headers FROM delayed WHERE published_at IS NULL "
                         "AND due_at <= ? ORDER BY due_at, id LIMIT ?", utc_text(now), limit)

    def mark_delayed_published(self, row_id: int, now: datetime) -> None:
        with self.transaction() as tx:
            tx.execute("UPDATE delayed SET published_at = ? WHERE id = ?", utc_text(now), row_id)

    def pending_outbox(self) -> int:
        with self.transaction() as tx:
            return tx.rows("SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL")[0]["n"]

    def states(self) -> list[tuple[str, dict]]:
        with self.transaction() as tx:
            rows = tx.rows("SELECT dossier_id, state FROM dossiers ORDER BY dossier_id")
        return [(r["dossier_id"], json.loads(r["state"])) for r in rows]

    def iter_states(self, batch: int = 1000) -> Iterator[tuple[str, dict]]:
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

    def state(self, dossier_id: str) -> dict | None:
        rows = self.read("SELECT state FROM dossiers WHERE dossier_id = ?", dossier_id)
        return json.loads(rows[0]["state"]) if rows else None

    def journal_of(self, dossier_id: str) -> list[dict[str, Any]]:
        with self.transaction() as tx:
            return tx.rows("SELECT * FROM journal WHERE dossier_id = ? ORDER BY seq", dossier_id)

    def verify_journal(self) -> "chain.Verdict":
        with self.transaction() as tx:
            rows = tx.rows(f"SELECT {', '.join(chain.FIELDS)}, {chain.FORM}, hash FROM journal ORDER BY seq")
            head = tx.rows("SELECT records, hash FROM journal_head WHERE id = 1")
        return chain.verify(rows, head[0] if head else None)

    def open_tasks(self) -> list[dict[str, Any]]:
        with self.transaction() as tx:
            return tx.rows("SELECT * FROM tasks WHERE closed_at IS NULL ORDER BY deadline, dossier_id")


# Enough for every message a few batches cause; a reminder due months later is read back instead.
WRITTEN_KEPT = 4096


class Transaction:
    def __init__(self, conn, param: str, written: OrderedDict | None = None):
        self._conn, self._param = conn, param
        self._written = written if written is not None else OrderedDict()
        # The journal's head as this transaction last wrote it: read once, then kept here. It holds
        # because no one else appends meanwhile (SQLite: BEGIN IMMEDIATE; PostgreSQL: the head row
        # stays locked FOR UPDATE until the transaction ends); undone with a savepoint's rollback.
        self._head: tuple[int, str] | None = None
        self._head_at_savepoint: tuple[int, str] | None = None
        self._head_written: tuple[int, str] | None = None

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

    def execute(self, sql: str, *args: Any):
        if self._param != "?":
            sql = sql.replace("?", self._param)
        return self._conn.execute(sql, args)

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        cur = self.execute(sql, *args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def already_processed(self, message_id: str) -> bool:
        return bool(self.rows("SELECT 1 AS x FROM processed WHERE message_id = ?", message_id))

    def received_body_hash(self, message_id: str) -> str | None:
        """The body hash journaled when this message id was first received, if it was."""
        rows = self.rows("SELECT body_hash FROM journal WHERE message_id = ? AND direction = 'in' "
                         "ORDER BY seq LIMIT 1", message_id)
        return rows[0]["body_hash"] if rows else None

    def journaled(self, message_id: str, direction: str, body_hash: str) -> bool:
        return bool(self.rows("SELECT 1 AS x FROM journal WHERE message_id = ? AND direction = ? AND body_hash = ?",
                              message_id, direction, body_hash))

    def claim_processed(self, envelope: Envelope, now: datetime) -> bool:
        """Record the message id as processed; False when it was already (a duplicate). One statement
        for the check and the mark: on PostgreSQL a second process inserting the same id waits for
        the first one's commit, then finds it there."""
        inserted = self.execute("INSERT INTO processed (message_id, type, processed_at) VALUES (?, ?, ?) "
                                "ON CONFLICT (message_id) DO NOTHING",
                                str(envelope.message_id), envelope.type, utc_text(now))
        return inserted.rowcount == 1

    def unclaim_processed(self, envelope: Envelope) -> None:
        """A message refused after its id was claimed is not processed: a replay must find it new."""
        self.execute("DELETE FROM processed WHERE message_id = ?", str(envelope.message_id))

    def load_state(self, dossier_id: str, for_update: bool = False) -> str | None:
        """The dossier's state as its JSON text, for the state model to read directly.

        `for_update`: on PostgreSQL, lock the dossier's row until the transaction ends, so that a
        second process of the agency handling the same dossier waits and then reads this one's
        state (no lost update). SQLite needs no lock: BEGIN IMMEDIATE already serialises writers."""
        lock = " FOR UPDATE" if for_update and self._param != "?" else ""
        row = self.execute(f"SELECT state FROM dossiers WHERE dossier_id = ?{lock}", dossier_id).fetchone()
        return row[0] if row else None

    def save_state(self, dossier_id: str, state_json: str, now: datetime) -> None:
        """One statement whether the dossier is new here or not."""
        self.execute("INSERT INTO dossiers (dossier_id, state, updated_at) VALUES (?, ?, ?) "
                     "ON CONFLICT (dossier_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                     dossier_id, state_json, utc_text(now))

    def add_outbox(self, envelope: Envelope, due_at: datetime, extra_headers: dict[str, str] | None = None,
                   task: str | None = None) -> None:
        """`extra_headers`: what travels beside the envelope's own headers (the trace context); `task`:
        a reminder about that task, withdrawn unsent when the task closes."""
        message_id = str(envelope.message_id)
        self.execute("INSERT INTO outbox (message_id, dossier_id, routing_key, type, body, headers, due_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", message_id, envelope.dossier_id,
                     envelope.routing_key, envelope.type, envelope.body().decode(),
                     json.dumps({**envelope.headers(), **(extra_headers or {})}), utc_text(due_at))
        if task is not None:
            self.execute("INSERT INTO reminders (message_id, dossier_id, task) VALUES (?, ?, ?)",
                         message_id, envelope.dossier_id, task)
        # Kept even if this transaction rolls back: it is looked up only for a row that is in the outbox.
        self._written[message_id] = envelope
        if len(self._written) > WRITTEN_KEPT:
            self._written.popitem(last=False)

    def journal(self, direction: str, envelope: Envelope, now: datetime, body: bytes | None = None) -> None:
        """Append to the hash chain; the head moves in the same transaction. `body`: the envelope's
        JSON when the caller holds it already (an outbox row's), rather than written again."""
        if self._head is None:
            # Locked on PostgreSQL: two processes of one agency append to one chain, one after the other.
            lock = " FOR UPDATE" if self._param != "?" else ""
            head = self.rows(f"SELECT records, hash FROM journal_head WHERE id = 1{lock}")
            if not head:
                self.execute("INSERT INTO journal_head (id, records, hash) VALUES (1, 0, ?)", chain.GENESIS)
            self._head = self._head_written = (head[0]["records"], head[0]["hash"]) if head else (0, chain.GENESIS)
        records, previous = self._head
        record = {"seq": records + 1, "direction": direction, "message_id": str(envelope.message_id),
                  "dossier_id": envelope.dossier_id, "type": envelope.type, "sender": envelope.sender.agency,
                  "recipient": envelope.recipient, "sent_at": utc_text(envelope.sent_at),
                  "deadline": utc_text(envelope.deadline) if envelope.deadline else None,
                  "recorded_at": utc_text(now), "body_hash": chain.body_hash(body if body is not None else envelope.body()), "prev_hash": previous,
                  chain.FORM: chain.CURRENT_FORM}
        record["hash"] = chain.record_hash(record)
        self.execute(f"INSERT INTO journal ({', '.join(record)}) VALUES ({', '.join('?' * len(record))})",
                     *record.values())
        self._head = (record["seq"], record["hash"])  # written to journal_head by finish(), before the commit

    def open_task(self, dossier_id: str, task: str, opened_at: datetime, deadline: datetime | None) -> None:
        # Opened again: the reminders of its earlier opening give way to those of this one.
        self.withdraw_reminders(dossier_id, task)
        self.execute("INSERT INTO tasks (dossier_id, task, opened_at, deadline) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (dossier_id, task) DO UPDATE SET opened_at = excluded.opened_at, "
                     "deadline = excluded.deadline, closed_at = NULL",
                     dossier_id, task, utc_text(opened_at), utc_text(deadline) if deadline else None)

    def task_open(self, dossier_id: str, task: str) -> bool:
        return bool(self.rows("SELECT 1 AS x FROM tasks WHERE dossier_id = ? AND task = ? AND closed_at IS NULL",
                              dossier_id, task))

    def close_task(self, dossier_id: str, task: str, now: datetime) -> None:
        self.execute("UPDATE tasks SET closed_at = ? WHERE dossier_id = ? AND task = ? AND closed_at IS NULL",
                     utc_text(now), dossier_id, task)
        self.withdraw_reminders(dossier_id, task)

    def close_all_tasks(self, dossier_id: str, now: datetime) -> None:
        self.execute("UPDATE tasks SET closed_at = ? WHERE dossier_id = ? AND closed_at IS NULL",
                     utc_text(now), dossier_id)
        self.withdraw_reminders(dossier_id)

    def withdraw_reminders(self, dossier_id: str, task: str | None = None) -> None:
        """Remove the unsent reminders of a task (of every task without one); sent ones stay journaled."""
        where, args = ("dossier_id = ?", [dossier_id]) if task is None else \
            ("dossier_id = ? AND task = ?", [dossier_id, task])
        # The ids given as values: with `IN (SELECT ...)` SQLite walks every unsent row (the index on
        # published_at), and the reminders still due are most of the outbox.
        ids = [message_id for (message_id,) in
               self.execute(f"DELETE FROM reminders WHERE {where} RETURNING message_id", *args).fetchall()]
        if ids:
            self.execute(f"DELETE FROM outbox WHERE message_id IN ({', '.join('?' * len(ids))}) "
                         "AND published_at IS NULL", *ids)
