"""An agency's register in a SQLite file, <data-dir>/<agency>.sqlite3: the default, which needs no
server. Everything SQLite-specific the register does is here."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog

from guichet.private_files import private_file, private_sidecars
from guichet.registers.base import Register
from guichet.registers.dialect import Dialect

log = structlog.get_logger("guichet.register")
CHECKPOINT_SECONDS = 30.0  # how long an erasure waits for readers to let the log be emptied

SQLITE = Dialect(
    name="sqlite",
    prepare=lambda sql: sql,
    serial="INTEGER",
    # No row locks: a writer's BEGIN IMMEDIATE holds the whole file, so other writers wait.
    row_lock="",
    skip_locked="",
    json_field="json_extract({column}, '$.{key}')",
    table_names="SELECT name FROM sqlite_master WHERE type = 'table'",
    before_migrating=(),  # BEGIN IMMEDIATE already keeps a second process out
    missing_table=(sqlite3.OperationalError,),
)


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:") else url


class SqliteRegister(Register):
    dialect = SQLITE

    def _connect(self, schema: str | None, durable: bool) -> sqlite3.Connection:
        path = sqlite_path(self.url)
        if path != ":memory:":
            private_file(path)  # names, passports and the journal: 0600, in a folder created 0700
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if durable:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            if path != ":memory:":
                private_sidecars(path)
        else:
            # A throwaway register: no flush to disk at each commit, the rollback journal in memory
            # rather than a write-ahead log beside it, the file lock taken once rather than at every
            # transaction. Its transactions and savepoints stay all-or-nothing.
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("PRAGMA journal_mode=MEMORY")
            conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        # IMMEDIATE: the write lock is taken at the start, so that a transaction never reads, then
        # fails to write because another process wrote meanwhile.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def secure_delete(self, on: bool) -> None:
        self._conn.execute(f"PRAGMA secure_delete={'ON' if on else 'OFF'}")

    def compact(self, tables: tuple[str, ...]) -> None:
        # Earlier versions of a row (each state update rewrote it) may lie in any page's free space:
        # VACUUM rebuilds the file from the live rows alone; the checkpoint then empties the
        # write-ahead log, whose frames hold whole pages as they were written.
        self._conn.execute("VACUUM")
        # A process reading the register (its service) holds the log's frames until its read ends:
        # the checkpoint is tried again for a while, then the erasure says what is left.
        deadline = time.monotonic() + CHECKPOINT_SECONDS
        while self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] != 0:
            if time.monotonic() > deadline:
                log.warning(
                    "erasure: the write-ahead log could not be emptied while another process read the register; "
                    "its earlier pages stay there until the next checkpoint: run the erasure again",
                    agency=self.agency,
                )
                return
            time.sleep(0.2)

    def upgrade_command(self) -> str:
        return f"guichet register upgrade {self.agency} --data-dir {Path(sqlite_path(self.url)).parent}"


def read_only_connection(path: Path, timeout: float) -> sqlite3.Connection | None:
    """`mode=ro`: a register that does not exist yet reads as empty instead of being created."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout) if path.exists() else None
