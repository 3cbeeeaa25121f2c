"""The tables of an agency's register, the same on SQLite and PostgreSQL (`{serial}` is each one's
auto-increment): what step 1 of the migrations creates (migrations.py)."""

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS dossiers (
        dossier_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS processed (
        message_id TEXT PRIMARY KEY, type TEXT NOT NULL, processed_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS outbox (
        id {serial} PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, dossier_id TEXT NOT NULL,
        routing_key TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, headers TEXT NOT NULL,
        due_at TEXT NOT NULL, published_at TEXT, claimed_by TEXT, claimed_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (published_at, due_at)",
    """CREATE TABLE IF NOT EXISTS journal (
        seq BIGINT PRIMARY KEY, direction TEXT NOT NULL, message_id TEXT NOT NULL,
        dossier_id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
        sent_at TEXT NOT NULL, deadline TEXT, recorded_at TEXT NOT NULL,
        body_hash TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, canonical TEXT)""",
    """CREATE TABLE IF NOT EXISTS journal_head (
        id INTEGER PRIMARY KEY, records BIGINT NOT NULL, hash TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS journal_dossier ON journal (dossier_id, seq)",
    # Delayed retries on the embedded transport, which has no broker TTL to hold them.
    """CREATE TABLE IF NOT EXISTS delayed (
        id {serial} PRIMARY KEY, routing_key TEXT NOT NULL, body TEXT NOT NULL, headers TEXT NOT NULL,
        due_at TEXT NOT NULL, published_at TEXT)""",
    # Reminders bound to a task (deadline watch, self-set time limits): withdrawn when it closes.
    """CREATE TABLE IF NOT EXISTS reminders (
        message_id TEXT PRIMARY KEY, dossier_id TEXT NOT NULL, task TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS reminders_task ON reminders (dossier_id, task)",
    """CREATE TABLE IF NOT EXISTS tasks (
        dossier_id TEXT NOT NULL, task TEXT NOT NULL, opened_at TEXT NOT NULL, deadline TEXT,
        closed_at TEXT, PRIMARY KEY (dossier_id, task))""",
]

# Any of them found without a version table: a register made before the version table (legacy).
TABLES = frozenset({"dossiers", "processed", "outbox", "journal", "journal_head", "delayed", "reminders", "tasks"})
