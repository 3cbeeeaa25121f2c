"""An agency's register in PostgreSQL, one schema per agency (named after it unless told), for
several processes of an agency or a managed database. Everything PostgreSQL-specific the register
does is here; psycopg is imported only when a PostgreSQL URL is given."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, cast

import psycopg

from guichet.registers.base import Register
from guichet.registers.dialect import Dialect

POSTGRES = Dialect(
    name="postgresql",
    prepare=lambda sql: sql.replace("?", "%s"),
    serial="BIGSERIAL",
    row_lock=" FOR UPDATE",
    # Two publishers of one agency claim the outbox at once: each skips the rows the other holds.
    skip_locked=" FOR UPDATE SKIP LOCKED",
    json_field="({column}::json ->> '{key}')",
    table_names="SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()",
    # Held until the migration's transaction ends; keyed by the schema, so agencies do not wait on each other.
    before_migrating=("SELECT pg_advisory_xact_lock(hashtext(current_schema()))",),
    missing_table=(psycopg.errors.UndefinedTable,),
)


class PostgresRegister(Register):
    dialect = POSTGRES

    def _connect(self, schema: str | None, durable: bool) -> psycopg.Connection:
        conn = psycopg.connect(self.url, autocommit=True)
        self.schema = schema or self.agency
        with conn.cursor() as cur:
            # An account granted its own schema alone may not create one: create only what is missing.
            cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            cur.execute(f'SET search_path TO "{self.schema}"')
        return conn

    def _atomic(self) -> AbstractContextManager[Any]:
        return cast(AbstractContextManager[Any], self._conn.transaction())

    def secure_delete(self, on: bool) -> None:
        pass  # PostgreSQL writes a new row version and leaves the old one dead: compact() removes it

    def compact(self, tables: tuple[str, ...]) -> None:
        # VACUUM cannot run in a transaction: the register's connection is in autocommit. The tables
        # the register does not have (an older one without journal_messages) are left out.
        present = {r[0] for r in self._conn.execute(POSTGRES.table_names).fetchall()}
        for table in tables:
            if table in present:
                self._conn.execute(f'VACUUM "{self.schema}"."{table}"')

    def upgrade_command(self) -> str:
        # The URL may hold a password: named, not printed.
        return f"guichet register upgrade {self.agency} --database-url URL"


def read_only_connection(url: str, schema: str) -> psycopg.Connection:
    """A read-only session on the agency's schema: a tool that reads cannot write by mistake."""
    return psycopg.connect(url, autocommit=True, options=f"-c default_transaction_read_only=on -c search_path={schema}")
