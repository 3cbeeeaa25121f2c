"""The supervision store's tables, the same on SQLite and PostgreSQL (`{serial}`: each one's
auto-increment). Instants are UTC text (`2026-03-21T08:00:00.000000Z`), which sorts as time does.

Each table answers a question operators ask, and its indexes are those questions:
- `dossiers`: one row per dossier, what the list, its filters and the search read (the projection
  the DT-OFII's audit copy carries, plus what the other agencies' copies add: who holds the
  dossier, its next legal deadline);
- `records`: every agency's journal records, the dossier page's timeline and sequence diagram;
- `anchors` and `findings`: the agencies' signed journal heads, and what checking the records
  against them found (supervision/anchors.py);
- `tasks`: every agency's tasks with their legal deadline, the deadline board;
- `refusals`: the refusal notices the bus sent, by dossier and by party;
- `failures` and `failure_events`: the error queue as ingested records and what happened to each;
- `actions`: every operator action, under the person's name;
- `sources`: per agency, the last audit copy taken, for the lag and the clock;
- `erasures`: the dossiers erased (retention period or erasure decision), no personal data;
- `ingested`: the ids of the messages taken, so that a redelivered copy changes nothing;
- `accounts` and `sessions`: the console's own accounts and the server side of its sessions
  (guichet_operations/console/auth); a session is keyed by the SHA-256 of its cookie, so that reading
  the store gives nobody a session to use.
"""

from __future__ import annotations

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS dossiers (
        dossier_id TEXT PRIMARY KEY,
        title TEXT, route TEXT, outcome TEXT NOT NULL, closed INTEGER NOT NULL,
        step TEXT, holder TEXT,
        departement TEXT, prefecture TEXT, smoe TEXT, consulat TEXT, dt_ofii TEXT,
        siret TEXT, agdref_number TEXT,
        filed_at TEXT, updated_at TEXT NOT NULL,
        next_deadline TEXT, breached INTEGER NOT NULL, alerts INTEGER NOT NULL,
        projection TEXT NOT NULL, personal TEXT,
        source_seq BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS dossiers_updated ON dossiers (updated_at, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_filed ON dossiers (filed_at, dossier_id)",
    # Each filter with the list's default order (last update first): a filtered page reads its 50 rows
    # from one index, in order, without sorting what matches (the console, guichet_operations/console).
    "CREATE INDEX IF NOT EXISTS dossiers_closed_updated ON dossiers (closed, updated_at, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_step_updated ON dossiers (step, updated_at, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_holder_updated ON dossiers (holder, updated_at, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_title_updated ON dossiers (title, updated_at, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_departement_updated ON dossiers (departement, updated_at, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_prefecture_updated ON dossiers (prefecture, updated_at, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_deadline ON dossiers (next_deadline, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_breached_updated ON dossiers (breached, updated_at, dossier_id)",
    "CREATE INDEX IF NOT EXISTS dossiers_siret ON dossiers (siret)",
    "CREATE INDEX IF NOT EXISTS dossiers_agdref ON dossiers (agdref_number)",
    """CREATE TABLE IF NOT EXISTS records (
        agency TEXT NOT NULL, seq BIGINT NOT NULL, direction TEXT NOT NULL, message_id TEXT NOT NULL,
        dossier_id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
        sent_at TEXT NOT NULL, deadline TEXT, recorded_at TEXT NOT NULL, causation_id TEXT,
        hash TEXT NOT NULL, prev_hash TEXT, PRIMARY KEY (agency, seq))""",
    "CREATE INDEX IF NOT EXISTS records_dossier ON records (dossier_id, sent_at)",
    """CREATE TABLE IF NOT EXISTS tasks (
        agency TEXT NOT NULL, dossier_id TEXT NOT NULL, task TEXT NOT NULL, opened_at TEXT NOT NULL,
        deadline TEXT, closed_at TEXT, employer_side INTEGER NOT NULL,
        PRIMARY KEY (agency, dossier_id, task))""",
    # The deadline board reads open tasks in its order (deadline, agency, dossier, task), all or one
    # agency's: partial indexes of the open tasks in that order give its page without a sort.
    "DROP INDEX IF EXISTS tasks_board",
    "CREATE INDEX IF NOT EXISTS tasks_open_board ON tasks (deadline, agency, dossier_id, task) "
    "WHERE closed_at IS NULL AND employer_side = 0 AND deadline IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS tasks_open_board_agency ON tasks (agency, deadline, dossier_id, task) "
    "WHERE closed_at IS NULL AND employer_side = 0 AND deadline IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS tasks_dossier ON tasks (dossier_id)",
    """CREATE TABLE IF NOT EXISTS refusals (
        notice_id TEXT PRIMARY KEY, party TEXT NOT NULL, refused_by TEXT NOT NULL, reason TEXT NOT NULL,
        message_id TEXT, dossier_id TEXT, refused_at TEXT NOT NULL, notice TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS refusals_dossier ON refusals (dossier_id, refused_at)",
    "CREATE INDEX IF NOT EXISTS refusals_party ON refusals (party, refused_at)",
    """CREATE TABLE IF NOT EXISTS failures (
        id {serial} PRIMARY KEY, message_id TEXT, dossier_id TEXT, type TEXT, reason TEXT NOT NULL,
        queue TEXT, routing_key TEXT, replays INTEGER, failed_at TEXT NOT NULL, ingested_at TEXT NOT NULL,
        status TEXT NOT NULL, headers TEXT NOT NULL, body BYTEA NOT NULL, body_size BIGINT NOT NULL,
        ingest_key TEXT NOT NULL UNIQUE)""",
    "CREATE INDEX IF NOT EXISTS failures_status ON failures (status, failed_at)",
    "CREATE INDEX IF NOT EXISTS failures_dossier ON failures (dossier_id)",
    """CREATE TABLE IF NOT EXISTS failure_events (
        id {serial} PRIMARY KEY, failure_id BIGINT NOT NULL, at TEXT NOT NULL, event TEXT NOT NULL,
        person TEXT, detail TEXT)""",
    "CREATE INDEX IF NOT EXISTS failure_events_failure ON failure_events (failure_id, id)",
    """CREATE TABLE IF NOT EXISTS actions (
        id {serial} PRIMARY KEY, at TEXT NOT NULL, person TEXT NOT NULL, role TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT, detail TEXT)""",
    "CREATE INDEX IF NOT EXISTS actions_at ON actions (at)",
    """CREATE TABLE IF NOT EXISTS sources (
        agency TEXT PRIMARY KEY, seq BIGINT NOT NULL, head_hash TEXT NOT NULL,
        bus_now TEXT NOT NULL, time_scale DOUBLE PRECISION NOT NULL, received_at TEXT NOT NULL,
        queues TEXT)""",
    # `signature`: valid, invalid, or unchecked (no key directory); `chain`: held, broken, or partial
    # (records the store no longer holds, or not yet).
    """CREATE TABLE IF NOT EXISTS anchors (
        agency TEXT NOT NULL, seq BIGINT NOT NULL, head TEXT NOT NULL, signed_at TEXT NOT NULL,
        key_id TEXT NOT NULL, signature TEXT NOT NULL, signature_status TEXT NOT NULL,
        chain_status TEXT NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY (agency, seq))""",
    """CREATE TABLE IF NOT EXISTS findings (
        id {serial} PRIMARY KEY, agency TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL,
        detail TEXT NOT NULL, found_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS findings_agency ON findings (agency, id)",
    # The dossiers whose personal data was erased here (supervision/retention.py): an audit copy
    # still in the queue describes such a dossier in vain, and nothing here names the person.
    """CREATE TABLE IF NOT EXISTS erasures (
        dossier_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ingested (
        message_id TEXT PRIMARY KEY, at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS accounts (
        identifier TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL, failures INTEGER NOT NULL, locked_until TEXT,
        created_at TEXT NOT NULL, changed_at TEXT NOT NULL)""",
    # A session before sign-in (person NULL) carries the sign-in form's CSRF token and, during an OIDC
    # sign-in, what the provider's answer is checked against (`pending`: state, nonce, PKCE verifier).
    """CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY, person TEXT, name TEXT, role TEXT, via TEXT,
        created_at TEXT NOT NULL, seen_at TEXT NOT NULL, pending TEXT)""",
    "CREATE INDEX IF NOT EXISTS sessions_person ON sessions (person)",
    # What the purge of expired sessions reads: unused too long, or begun too long ago.
    "CREATE INDEX IF NOT EXISTS sessions_seen ON sessions (seen_at)",
    "CREATE INDEX IF NOT EXISTS sessions_created ON sessions (created_at)",
]

# Columns added to a table after stores were made with it: added when a store without them opens.
ADDED_COLUMNS = [("records", "prev_hash", "TEXT")]
