"""The register's schema as numbered steps, and the `schema_version` table that says which ones a
register has had.

Step 1 is the register as this version creates it. A register made before the version table
existed (a "legacy" register, version 0) is recognised by its tables; step 1 brings it to today's
tables and columns as opening it always did (the journal's hash form, the outbox claims), without
touching a row. Later steps are appended, never edited nor removed: a register at version N gets
steps N+1, N+2... in order, each in the transaction that records it.

When a register is opened:
- at the current version: nothing to do;
- older, and every missing step is marked `on_open` (additive: new tables, nullable columns, an
  index): the steps run there and then, as the older versions did;
- older, and a missing step is not `on_open` (it rewrites rows, or takes long on a large
  register): refused, naming the versions and `guichet register upgrade`, which runs every step;
- newer than this version knows: refused, whichever the command. This version would misread the
  tables a later one wrote, and would write rows the later one does not expect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from guichet import journal as chain
from guichet.registers.dialect import Dialect
from guichet.registers.instants import utc_text
from guichet.registers.schema import SCHEMA, TABLES
from guichet.registers.transaction import Transaction

LEGACY = 0  # the version of a register made before the version table existed
VERSION_TABLE = "schema_version"


@dataclass(frozen=True)
class Step:
    version: int  # the register's version once the step has run
    purpose: str  # what it changes, as an operator reads it in an upgrade's report
    apply: Callable[[Transaction, Dialect], None]
    on_open: bool = True  # run when a service opens the register; else only by `guichet register upgrade`


def _columns(tx: Transaction, table: str) -> list[str]:
    return [d[0] for d in tx.execute(f"SELECT * FROM {table} LIMIT 0").description]


def _tables_of_version_1(tx: Transaction, dialect: Dialect) -> None:
    for statement in SCHEMA:
        tx.execute(statement.format(serial=dialect.serial))
    # A legacy register made before records named their hash form: its records stay legacy (NULL).
    if chain.FORM not in _columns(tx, "journal"):
        tx.execute(f"ALTER TABLE journal ADD COLUMN {chain.FORM} TEXT")
    # A legacy register made before outbox rows were claimed by a publisher: its rows unclaimed.
    if "claimed_by" not in _columns(tx, "outbox"):
        tx.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
        tx.execute("ALTER TABLE outbox ADD COLUMN claimed_at TEXT")


def _audit_cursor(tx: Transaction, dialect: Dialect) -> None:
    # Where the audit copies sent to supervision have reached in the journal (guichet/audit_copy.py).
    tx.execute("CREATE TABLE IF NOT EXISTS audit_cursor (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL)")


def _journal_anchors(tx: Transaction, dialect: Dialect) -> None:
    # The agency's signed heads of its journal (guichet/journal_anchor.py); `shipped_at`: when an
    # audit copy confirmed by the broker carried the anchor to supervision, NULL until then.
    tx.execute(
        "CREATE TABLE IF NOT EXISTS journal_anchors (seq BIGINT PRIMARY KEY, head TEXT NOT NULL, "
        "signed_at TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL, shipped_at TEXT)"
    )


def _kept_messages(tx: Transaction, dialect: Dialect) -> None:
    # What each journal record proves besides its metadata (guichet/journal.py, form rfc8785-2): the
    # hashes in the record, the message's bytes and the state it left beside it, erasable apart.
    for column in chain.KEPT_FIELDS:
        if column not in _columns(tx, "journal"):
            tx.execute(f"ALTER TABLE journal ADD COLUMN {column} TEXT")
    tx.execute(
        "CREATE TABLE IF NOT EXISTS journal_messages (seq BIGINT PRIMARY KEY, body TEXT, state TEXT, "
        "erased_at TEXT, erasure_reason TEXT)"
    )


def _receipts_and_anchor_copies(tx: Transaction, dialect: Dialect) -> None:
    # The signed receipts of this agency's messages (guichet/delivery_receipts.py): the message they
    # acknowledge, who acknowledged it, and the journal record keeping the receipt's bytes.
    tx.execute(
        "CREATE TABLE IF NOT EXISTS receipts (message_id TEXT PRIMARY KEY, receiver TEXT NOT NULL, "
        "receipt_id TEXT NOT NULL, journal_seq BIGINT NOT NULL, kept_at TEXT NOT NULL)"
    )
    # When the broker confirmed an anchor's copy to the outside auditor (guichet/anchor_copies.py).
    if "copied_at" not in _columns(tx, "journal_anchors"):
        tx.execute("ALTER TABLE journal_anchors ADD COLUMN copied_at TEXT")


def _erasures(tx: Transaction, dialect: Dialect) -> None:
    # Which dossiers had their personal data erased, when, why and on whose decision (RGPD art. 17,
    # guichet/registers/erasure.py): what the register keeps of them holds no personal data, and a
    # message arriving later for one of them is refused rather than opening it again.
    tx.execute(
        "CREATE TABLE IF NOT EXISTS erasures (dossier_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL, "
        "kind TEXT NOT NULL, reason TEXT NOT NULL, decided_by TEXT NOT NULL, outcome TEXT)"
    )


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "the register's tables; a legacy register gains the journal's hash form and the outbox claims",
        _tables_of_version_1,
    ),
    Step(2, "the audit cursor: the last journal record copied to supervision", _audit_cursor),
    Step(3, "the journal's anchors: its head signed with the agency's key", _journal_anchors),
    Step(4, "the journal keeps each message as received or sent and the state it left", _kept_messages),
    Step(
        5,
        "the signed receipts of the agency's messages; the anchors' copies to the auditor",
        _receipts_and_anchor_copies,
    ),
    Step(6, "the erasures: the dossiers whose personal data was erased, when and why", _erasures),
)
CURRENT = STEPS[-1].version


class RegisterVersionError(Exception):
    """A register this version may not open as it is: written by a newer version, or one that
    needs `guichet register upgrade` first."""

    def __init__(self, message: str, found: int, expected: int):
        super().__init__(message)
        self.found, self.expected = found, expected


@dataclass(frozen=True)
class Upgrade:
    """What opening a register found and left: `found` is None for a register created just now."""

    found: int | None
    version: int

    @property
    def changed(self) -> bool:
        return self.found is not None and self.found != self.version

    def describe(self) -> str:
        if self.found is None:
            return f"created at version {self.version}"
        if not self.changed:
            return f"at version {self.version}, nothing to do"
        was = "a legacy register (no schema version)" if self.found == LEGACY else f"version {self.found}"
        return f"upgraded from {was} to version {self.version}"


def found_version(rows: Callable[[str], list[dict[str, Any]]], dialect: Dialect) -> int | None:
    """The register's version; LEGACY for tables without a version table; None for no tables at all.
    `rows`: a query's rows, in a transaction (a register's) or not (a reader's)."""
    tables = {row["name"] for row in rows(dialect.table_names)}
    if VERSION_TABLE in tables:
        version = rows(f"SELECT MAX(version) AS v FROM {VERSION_TABLE}")[0]["v"]
        return LEGACY if version is None else int(version)
    return LEGACY if tables & TABLES else None


def migrate(
    tx: Transaction,
    dialect: Dialect,
    agency: str,
    upgrade_command: str,
    upgrading: bool = False,
    steps: tuple[Step, ...] | None = None,
) -> Upgrade:
    """Bring the register to the last of `steps` (default: STEPS), or refuse (see the module's
    docstring). `upgrading`: run the steps not run on open too (the upgrade command)."""
    steps = steps or STEPS
    for statement in dialect.before_migrating:
        tx.execute(statement)
    found, expected = found_version(tx.rows, dialect), steps[-1].version
    if found is not None and found > expected:
        raise RegisterVersionError(
            f"the register of {agency} is at schema version {found}, but this guichet knows versions up to "
            f"{expected}: a later guichet wrote it. Run that version or a later one; this one does not open it, "
            f"as it would misread it.",
            found,
            expected,
        )
    pending = [step for step in steps if step.version > (found or LEGACY)]
    held = [step for step in pending if not step.on_open]
    if found is not None and held and not upgrading:
        raise RegisterVersionError(
            f"the register of {agency} is at schema version {found}, this guichet expects version {expected}: "
            f"step {held[0].version} ({held[0].purpose}) is not run when a service opens it. Stop the services "
            f"of {agency}, run `{upgrade_command}`, then start them again.",
            found,
            expected,
        )
    if pending:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
    for step in pending:
        step.apply(tx, dialect)
        tx.execute(
            f"INSERT INTO {VERSION_TABLE} (version, applied_at) VALUES (?, ?)",
            step.version,
            utc_text(datetime.now(UTC)),
        )
    return Upgrade(found, expected)
