"""Read-only access to an agency's register, for whoever looks without changing anything (the
operator tools, the bench, chaos runs, tests), while the agency's service may be writing to it.

SQLite is opened with `mode=ro`: a register that does not exist yet reads as empty instead of
being created, and a table not created yet reads as empty too. PostgreSQL runs in a read-only
session on the agency's schema.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


class RegisterReader:
    def __init__(self, agency: str, data_dir: str | Path | None = None, database_url: str | None = None,
                 timeout: float = 10.0):
        self.agency = agency
        self._conn: Any = None
        if database_url:
            import psycopg
            self._conn = psycopg.connect(database_url, autocommit=True,
                                         options=f"-c default_transaction_read_only=on -c search_path={agency}")
            self._param = "%s"
            self._missing: tuple[type[Exception], ...] = (psycopg.errors.UndefinedTable,)
        else:
            path = Path(data_dir or "data") / f"{agency}.sqlite3"
            if path.exists():
                self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
            self._param = "?"
            self._missing = (sqlite3.OperationalError,)

    def __enter__(self) -> "RegisterReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """The rows of a query written with `?` placeholders; none while the register is not there yet."""
        if self._conn is None:
            return []
        try:
            cur = self._conn.execute(sql.replace("?", self._param), args)
        except self._missing:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def states(self) -> dict[str, dict]:
        return {r["dossier_id"]: json.loads(r["state"])
                for r in self.rows("SELECT dossier_id, state FROM dossiers ORDER BY dossier_id")}

    def state(self, dossier_id: str) -> dict | None:
        rows = self.rows("SELECT state FROM dossiers WHERE dossier_id = ?", dossier_id)
        return json.loads(rows[0]["state"]) if rows else None


def read_state(agency: str, data_dir: str | Path, dossier_id: str) -> dict | None:
    """One dossier's state in one agency's register, opened and closed at once (for polling)."""
    with RegisterReader(agency, data_dir) as reader:
        return reader.state(dossier_id)


def read_states(agency: str, data_dir: str | Path) -> dict[str, dict]:
    with RegisterReader(agency, data_dir) as reader:
        return reader.states()
