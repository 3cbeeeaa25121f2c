"""What differs between SQLite and PostgreSQL in the SQL a register writes, as data: each
implementation (`sqlite.py`, `postgres.py`) gives one `Dialect`, and the code shared by both
(`base.py`, `transaction.py`, `reader.py`, `migrations.py`) reads it without asking which
database it has."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    # The register's SQL is written with `?` placeholders; this turns it into the driver's.
    prepare: Callable[[str], str]
    serial: str  # the type of an auto-increment key column
    row_lock: str  # after a SELECT: its rows stay locked until the transaction ends
    skip_locked: str  # after a SELECT: lock its rows, skipping those another transaction holds
    json_field: str  # `{column}`'s JSON text, member `{key}`, as text
    table_names: str  # a query whose `name` column lists the register's tables
    # Run first in a migration's transaction, so that two processes opening one register at once
    # do not both upgrade it.
    before_migrating: tuple[str, ...]
    # What the driver raises for a table not created yet (a reader sees it as empty).
    missing_table: tuple[type[Exception], ...]

    def json_member(self, column: str, key: str) -> str:
        return self.json_field.format(column=column, key=key)
