"""Agencies' registers: one interface (base.Register, its Transaction, the read-only
RegisterReader), two implementations (sqlite.py, postgres.py), one schema history (migrations.py)."""

from __future__ import annotations


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def implementation(url: str) -> type:
    """The register class for a URL: PostgreSQL for postgresql://, else a SQLite file (path or sqlite:///)."""
    if is_postgres_url(url):
        from guichet.registers.postgres import PostgresRegister

        return PostgresRegister
    from guichet.registers.sqlite import SqliteRegister

    return SqliteRegister
