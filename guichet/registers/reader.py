"""Read-only access to an agency's register, for whoever looks without changing anything (the
operator tools, the bench, chaos runs, tests), while the agency's service may be writing to it.
Every question a tool asks of a register is a named method here: no tool writes SQL against an
agency's tables, so a schema step changes this module and the register, not the tools.

SQLite is opened with `mode=ro`: a register that does not exist yet reads as empty instead of
being created, and a table not created yet reads as empty too. PostgreSQL runs in a read-only
session on the agency's schema. A reader never migrates: it reads a register as it finds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guichet import journal as chain
from guichet.journal_proof import Progress, verify_register
from guichet.registers.dialect import Dialect
from guichet.registers.export import register_export
from guichet.registers.migrations import found_version

if TYPE_CHECKING:
    from guichet.key_directory import KeyDirectory


class RegisterReader:
    def __init__(
        self, agency: str, data_dir: str | Path | None = None, database_url: str | None = None, timeout: float = 10.0
    ):
        self.agency = agency
        self._conn: Any
        self._dialect: Dialect
        if database_url:
            from guichet.registers.postgres import POSTGRES
            from guichet.registers.postgres import read_only_connection as postgres_reader

            self._conn, self._dialect = postgres_reader(database_url, agency), POSTGRES
        else:
            from guichet.registers.sqlite import SQLITE
            from guichet.registers.sqlite import read_only_connection as sqlite_reader

            self._conn = sqlite_reader(Path(data_dir or "data") / f"{agency}.sqlite3", timeout)
            self._dialect = SQLITE

    def __enter__(self) -> RegisterReader:
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
            cur = self._conn.execute(self._dialect.prepare(sql), args)
        except self._dialect.missing_table:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # Dossiers.
    def states(self) -> dict[str, dict[str, Any]]:
        return {
            r["dossier_id"]: json.loads(r["state"])
            for r in self.rows("SELECT dossier_id, state FROM dossiers ORDER BY dossier_id")
        }

    def state(self, dossier_id: str) -> dict[str, Any] | None:
        rows = self.rows("SELECT state FROM dossiers WHERE dossier_id = ?", dossier_id)
        return json.loads(rows[0]["state"]) if rows else None

    def outcomes(self) -> list[dict[str, Any]]:
        """Each dossier's `outcome` (None while it runs) and when its state last changed."""
        return self.rows(f"SELECT {self._dialect.json_member('state', 'outcome')} AS outcome, updated_at FROM dossiers")

    def outcome_counts(self) -> dict[str | None, int]:
        """How many dossiers have each outcome (None: still running)."""
        outcome = self._dialect.json_member("state", "outcome")
        return {
            r["outcome"]: int(r["n"])
            for r in self.rows(f"SELECT {outcome} AS outcome, COUNT(*) AS n FROM dossiers GROUP BY {outcome}")
        }

    # Outbox.
    def pending_outbox(self, now_text: str) -> int:
        """Outbox messages due by `now_text` (the register's sortable UTC text) and not yet published."""
        rows = self.rows("SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL AND due_at <= ?", now_text)
        return int(rows[0]["n"]) if rows else 0

    def outbox_of(self, dossier_id: str) -> list[dict[str, Any]]:
        """The dossier's outbox messages, sent or not: their ids and envelopes (JSON text)."""
        return self.rows("SELECT message_id, body FROM outbox WHERE dossier_id = ?", dossier_id)

    def published_outbox(self) -> list[dict[str, Any]]:
        """Every outbox message the broker confirmed: id, type, envelope (JSON text), when."""
        return self.rows("SELECT message_id, type, body, published_at FROM outbox WHERE published_at IS NOT NULL")

    # Tasks.
    def open_tasks(self) -> list[dict[str, Any]]:
        """Every task awaiting an act: its dossier, name, when it opened and its deadline (text)."""
        return self.rows("SELECT dossier_id, task, opened_at, deadline FROM tasks WHERE closed_at IS NULL")

    def open_tasks_by_step(self) -> dict[str, int]:
        """How many tasks await an act, by task name (each names the step it carries out)."""
        return {
            r["task"]: int(r["n"])
            for r in self.rows(
                "SELECT task, COUNT(*) AS n FROM tasks WHERE closed_at IS NULL GROUP BY task ORDER BY task"
            )
        }

    # Journal.
    def journal_of(self, dossier_id: str) -> list[dict[str, Any]]:
        """The dossier's journal records, in the chain's order."""
        return self.rows("SELECT * FROM journal WHERE dossier_id = ? ORDER BY seq", dossier_id)

    def journal_records(self, direction: str) -> list[dict[str, Any]]:
        """Every record of one direction ('in' received, 'out' sent): message, dossier, type, when."""
        return self.rows(
            "SELECT message_id, dossier_id, type, sent_at, recorded_at FROM journal WHERE direction = ? ORDER BY seq",
            direction,
        )

    def first_received_at(self) -> str | None:
        """When the first message received was journaled (the register's UTC text), if any was."""
        rows = self.rows("SELECT MIN(recorded_at) AS t FROM journal WHERE direction = 'in'")
        return rows[0]["t"] if rows else None

    def sent_more_than_once(self, type_: str) -> set[str]:
        """The dossiers for which a message of this type was sent more than once."""
        return {
            r["dossier_id"]
            for r in self.rows(
                "SELECT dossier_id, COUNT(*) AS n FROM journal WHERE direction = 'out' AND type = ? "
                "GROUP BY dossier_id HAVING COUNT(*) > 1",
                type_,
            )
        }

    def verify_journal(
        self,
        directory: KeyDirectory | None = None,
        progress: Progress | None = None,
        outside: list[dict[str, Any]] | None = None,
    ) -> chain.Verdict:
        """The hash chain and its anchors checked as the register finds it, streamed in batches (a
        legacy journal has no hash-form column: each of its records reads as legacy; a register
        from before anchors has none). `directory`: check the anchors' signatures too; `outside`:
        anchors kept by another party, checked with the register's own."""
        return verify_register(self.rows, self.agency, directory, progress, outside)

    def export(self, dossier_id: str) -> dict[str, Any] | None:
        """Everything this register holds on the dossier (an access request, guichet/registers/export.py)."""
        return register_export(self.rows, dossier_id)

    def erasures(self) -> list[dict[str, Any]]:
        """The dossiers erased here: id, when, retention or decision, why, who decided, outcome."""
        return self.rows("SELECT * FROM erasures ORDER BY erased_at, dossier_id")

    def schema_version(self) -> int | None:
        """The register's schema version (migrations.py); None for no register at all."""
        return found_version(self.rows, self._dialect)


def read_state(agency: str, data_dir: str | Path, dossier_id: str) -> dict[str, Any] | None:
    """One dossier's state in one agency's register, opened and closed at once (for polling)."""
    with RegisterReader(agency, data_dir) as reader:
        return reader.state(dossier_id)


def read_states(agency: str, data_dir: str | Path) -> dict[str, dict[str, Any]]:
    with RegisterReader(agency, data_dir) as reader:
        return reader.states()
