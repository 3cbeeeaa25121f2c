"""The supervision store: `sqlite:///path` embedded, `postgresql://...` deployed (schema
`supervision` unless told). The same SQL on both, written with `?` placeholders; the register's
dialects say what differs. Opening it creates the tables that are missing."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from guichet.configuration import ConfigurationError
from guichet.private_files import private_file, private_sidecars
from guichet.registers.dialect import Dialect
from guichet.registers.sqlite import SQLITE
from guichet_operations.supervision.schema import ADDED_COLUMNS, SCHEMA

DEFAULT_SCHEMA = "supervision"
# Reads on PostgreSQL go through up to this many connections of their own: the console's threads
# then wait on the server side in parallel instead of one after the other on the writing connection.
READERS = 6


class Store:
    def __init__(self, url: str, schema: str = DEFAULT_SCHEMA):
        self.url = url
        self._lock = threading.RLock()
        self._idle: queue.Queue[Any] = queue.Queue()
        self._opened: list[Any] = []
        if url.startswith(("postgresql://", "postgres://")):
            from guichet.registers.postgres import POSTGRES

            self.dialect: Dialect = POSTGRES
            self._conn = _postgres(url, schema)
            self._schema = schema
        elif url.startswith("sqlite:") or "://" not in url:
            self.dialect = SQLITE
            self._conn = _sqlite(url.removeprefix("sqlite:///") if url.startswith("sqlite:") else url)
        else:
            raise ConfigurationError(f"--store: {url!r} is neither sqlite:///PATH nor postgresql://...")
        with self.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement.format(serial=self.dialect.serial))
            for table, column, kind in ADDED_COLUMNS:
                if column not in [d[0] for d in tx.execute(f"SELECT * FROM {table} LIMIT 0").description]:
                    tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def compact(self, tables: tuple[str, ...]) -> None:
        """After an erasure: the deleted rows' bytes out of the store's files (SQLite: the file
        rebuilt and its write-ahead log emptied; PostgreSQL: the tables' dead row versions removed)."""
        with self._lock:
            if self.dialect is SQLITE:
                self._conn.execute("VACUUM")
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                return
            for table in tables:
                self._conn.execute(f'VACUUM "{self._schema}"."{table}"')

    def close(self) -> None:
        self._conn.close()
        for reader in self._opened:
            reader.close()

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """All or nothing; one at a time per Store object (threads share one connection)."""
        with self._lock:
            if self.dialect is SQLITE:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield StoreTransaction(self._conn, self.dialect)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            else:
                with self._conn.transaction():
                    yield StoreTransaction(self._conn, self.dialect)

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if self.dialect is SQLITE:
            with self._lock:
                return StoreTransaction(self._conn, self.dialect).rows(sql, *args)
        reader = self._reader()
        try:
            return StoreTransaction(reader, self.dialect).rows(sql, *args)
        except BaseException:
            reader.close()  # a connection in an unknown state is not given to the next reader
            with self._lock:
                self._opened.remove(reader)
            raise
        finally:
            if not reader.closed:
                self._idle.put(reader)

    def _reader(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._opened) < READERS:
                reader = _postgres(self.url, self._schema)
                self._opened.append(reader)
                return reader
        return self._idle.get()


class StoreTransaction:
    def __init__(self, conn: Any, dialect: Dialect):
        self._conn, self.dialect = conn, dialect

    def execute(self, sql: str, *args: Any) -> Any:
        return self._conn.execute(self.dialect.prepare(sql), args)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One statement for many rows (bulk loads)."""
        self._conn.cursor().executemany(self.dialect.prepare(sql), rows)

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        cur = self.execute(sql, *args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _sqlite(path: str) -> sqlite3.Connection:
    if path != ":memory:":
        private_file(path)  # operator actions and failed bodies: 0600, in a folder created 0700
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    if path != ":memory:":
        private_sidecars(path)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _postgres(url: str, schema: str) -> Any:
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    cur = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cur.fetchone() is None:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    conn.execute(f'SET search_path TO "{schema}"')
    return conn
