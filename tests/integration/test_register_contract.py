"""One contract for both registers: every assertion runs on SQLite and on PostgreSQL, so that the
embedded default and the production database keep the same guarantees (the write of a state, its
message id and its outbox in one transaction; a journal whose chain holds; a schema that is
upgraded, or refused, the same way)."""

import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from guichet import journal as chain
from guichet.envelope import Sender, wrap
from guichet.register import Register, RegisterVersionError
from guichet.register_reader import RegisterReader
from guichet.registers import migrations
from guichet.registers.instants import utc_text
from guichet.registers.migrations import CURRENT, LEGACY, Step
from schemas.titre import Recepisse

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


class Place:
    """Where one register lives: a SQLite file in a temporary folder, or a fresh PostgreSQL schema."""

    def __init__(self, kind, tmp_path, postgres_url=None):
        self.kind, self.tmp_path, self.url = kind, tmp_path, postgres_url
        self.schema = f"test_{uuid.uuid4().hex[:10]}_ofii"

    def open(self, **kwargs) -> Register:
        if self.kind == "sqlite":
            return Register(str(self.tmp_path / "ofii.sqlite3"), "ofii", **kwargs)
        return Register(self.url, "ofii", schema=self.schema, **kwargs)

    def raw(self, sql, *args):
        """A statement outside the register, as an older version or an operator would run it."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.tmp_path / "ofii.sqlite3") as conn:
                conn.execute(sql, args)
            conn.close()
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            conn.execute(f'SET search_path TO "{self.schema}"')
            conn.execute(sql.replace("?", "%s"), args)

    def drop(self):
        if self.kind == "postgresql":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def place(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    where = Place(request.param, tmp_path, url)
    yield where
    where.drop()


@pytest.fixture
def register(place):
    reg = place.open()
    yield reg
    reg.close()


def recepisse(day=1, dossier_id="D-1"):
    return wrap(
        Recepisse(valid_until=date(2026, 6, day)),
        dossier_id=dossier_id,
        sender=Sender(agency="prefecture"),
        sent_at=NOW + timedelta(days=day),
    )


def test_a_state_saved_is_read_back_and_a_rolled_back_one_is_not(register):
    with register.transaction() as tx:
        tx.save_state("D-1", '{"step": "depot"}', NOW)
    with pytest.raises(RuntimeError), register.transaction() as tx:
        tx.save_state("D-1", '{"step": "perdu"}', NOW)
        raise RuntimeError("the handler failed")
    assert register.state("D-1") == {"step": "depot"}
    with register.transaction() as tx:
        assert tx.load_state("D-1", for_update=True) == '{"step": "depot"}'
        assert tx.load_state("D-404") is None
    assert register.dossier_ids() == {"D-1"}


def test_a_message_id_is_claimed_once_and_unclaimed_for_a_replay(register):
    """A redelivered message finds its id and changes nothing (the register's idempotency)."""
    envelope = recepisse()
    with register.transaction() as tx:
        assert tx.claim_processed(envelope, NOW) is True
        assert tx.claim_processed(envelope, NOW) is False
        assert tx.already_processed(str(envelope.message_id))
    with register.transaction() as tx:
        tx.unclaim_processed(envelope)
        assert not tx.already_processed(str(envelope.message_id))


def test_the_outbox_is_claimed_by_one_publisher_then_marked_and_journaled(register):
    first, later = recepisse(1), recepisse(2)
    with register.transaction() as tx:
        tx.add_outbox(first, NOW)
        tx.add_outbox(later, NOW + timedelta(days=1))
    assert register.pending_outbox() == 2
    assert register.next_due() == NOW
    claimed = register.claim_outbox(NOW, "a", NOW, stale_before=NOW - timedelta(minutes=1))
    assert [r["message_id"] for r in claimed] == [str(first.message_id)]
    # Held by publisher "a" and not stale: publisher "b" gets nothing.
    assert register.claim_outbox(NOW, "b", NOW, stale_before=NOW - timedelta(minutes=1)) == []
    register.mark_all_published([(claimed[0], register.outbox_envelope(claimed[0]))], NOW)
    assert register.pending_outbox() == 1
    assert [r["message_id"] for r in register.journal_of("D-1")] == [str(first.message_id)]
    assert register.verify_journal().intact and register.verify_journal().records == 1


def test_a_task_opens_closes_and_withdraws_its_unsent_reminder(register):
    reminder = recepisse(3)
    with register.transaction() as tx:
        tx.open_task("D-1", "instruction", NOW, NOW + timedelta(days=30))
        tx.add_outbox(reminder, NOW + timedelta(days=25), task="instruction")
        assert tx.task_open("D-1", "instruction")
    assert [t["task"] for t in register.open_tasks()] == ["instruction"]
    with register.transaction() as tx:
        tx.close_task("D-1", "instruction", NOW)
    assert register.open_tasks() == [] and register.pending_outbox() == 0


def test_the_journal_chain_breaks_where_a_record_is_edited(register):
    with register.transaction() as tx:
        for day in (1, 2, 3):
            tx.journal("in", recepisse(day), NOW + timedelta(days=day))
    assert register.verify_journal().records == 3
    with register.transaction() as tx:
        tx.execute("UPDATE journal SET type = 'prefecture.autre' WHERE seq = 2")
    assert register.verify_journal().broken_seq == 2


def test_the_reader_sees_what_the_register_wrote_and_cannot_write(place):
    """The tools read through the reader alone (no SQL of theirs): it must see what was committed."""
    # The reader finds an agency's schema by the agency's name: on PostgreSQL the test schema is the name.
    agency = "ofii" if place.kind == "sqlite" else place.schema
    register = Register(str(place.tmp_path / "ofii.sqlite3") if place.kind == "sqlite" else place.url, agency)
    with register.transaction() as tx:
        tx.save_state("D-1", '{"outcome": "titre_remis"}', NOW)
        tx.open_task("D-1", "remise", NOW, None)
        tx.journal("out", recepisse(), NOW)
    register.close()
    data_dir, url = (place.tmp_path, None) if place.kind == "sqlite" else (None, place.url)
    with RegisterReader(agency, data_dir, url) as reader:
        assert reader.states() == {"D-1": {"outcome": "titre_remis"}}
        assert reader.outcome_counts() == {"titre_remis": 1}
        assert [t["task"] for t in reader.open_tasks()] == ["remise"]
        assert [r["type"] for r in reader.journal_records("out")] == ["prefecture.recepisse"]
        assert reader.verify_journal().records == 1
        assert reader.schema_version() == CURRENT
        with pytest.raises((sqlite3.OperationalError, psycopg.errors.ReadOnlySqlTransaction)):
            reader._conn.execute("DELETE FROM dossiers")


def test_a_fresh_register_is_created_at_the_current_version(place):
    reg = place.open()
    try:
        assert reg.migration.found is None and reg.migration.version == CURRENT
    finally:
        reg.close()
    again = place.open()
    try:
        assert again.migration.found == CURRENT and not again.migration.changed
    finally:
        again.close()


def test_a_legacy_register_is_recognised_by_its_columns_and_upgraded_on_open(place):
    """Registers made before the version table keep opening, as they always did, and gain the
    columns added since (the outbox claims), their rows untouched."""
    place.raw(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, dossier_id TEXT NOT NULL, "
        "routing_key TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, headers TEXT NOT NULL, "
        "due_at TEXT NOT NULL, published_at TEXT)"
    )
    place.raw(
        "INSERT INTO outbox (id, message_id, dossier_id, routing_key, type, body, headers, due_at) "
        "VALUES (1, 'm-1', 'D-1', 'ofii.x', 'x', '{}', '{}', '2026-01-01T00:00:00.000000+00:00')"
    )
    reg = place.open()
    try:
        assert reg.migration.found == LEGACY and reg.migration.version == CURRENT
        assert "legacy" in reg.migration.describe()
        claimed = reg.claim_outbox(NOW, "a", NOW, stale_before=NOW)
        assert [r["message_id"] for r in claimed] == ["m-1"]
    finally:
        reg.close()


def test_a_register_written_by_a_newer_version_is_refused_naming_both_versions(place):
    place.open().close()
    place.raw("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", CURRENT + 1, "2030-01-01")
    with pytest.raises(RegisterVersionError) as refused:
        place.open()
    message = str(refused.value)
    assert f"schema version {CURRENT + 1}" in message and f"up to {CURRENT}" in message
    assert refused.value.found == CURRENT + 1 and refused.value.expected == CURRENT


def _add_step(monkeypatch, on_open):
    """A step N+1 as a later version would append it, to test the upgrade from version N."""

    def add_priority(tx, dialect):
        tx.execute("ALTER TABLE tasks ADD COLUMN priority TEXT")

    monkeypatch.setattr(
        migrations, "STEPS", migrations.STEPS + (Step(CURRENT + 1, "task priorities", add_priority, on_open=on_open),)
    )


def test_an_additive_step_runs_on_open_from_the_previous_version(place, monkeypatch):
    place.open().close()
    _add_step(monkeypatch, on_open=True)
    reg = place.open()
    try:
        assert (reg.migration.found, reg.migration.version) == (CURRENT, CURRENT + 1)
        with reg.transaction() as tx:
            tx.execute("UPDATE tasks SET priority = 'high'")  # the column is there
    finally:
        reg.close()


def test_a_step_not_run_on_open_refuses_the_register_until_the_upgrade_command(place, monkeypatch):
    place.open().close()
    _add_step(monkeypatch, on_open=False)
    with pytest.raises(RegisterVersionError) as refused:
        place.open()
    assert f"schema version {CURRENT}" in str(refused.value) and "guichet register upgrade ofii" in str(refused.value)
    reg = place.open(upgrade=True)
    try:
        assert "upgraded from version" in reg.migration.describe()
    finally:
        reg.close()
    place.open().close()  # upgraded: it opens again


def journal_in_the_rfc8785_form(tx, envelope, now):
    """A record as versions before step 4 wrote it: no kept message, the form without kept hashes."""
    head = tx.rows("SELECT records, hash FROM journal_head WHERE id = 1")
    records, previous = (head[0]["records"], head[0]["hash"]) if head else (0, chain.GENESIS)
    if not head:
        tx.execute("INSERT INTO journal_head (id, records, hash) VALUES (1, 0, ?)", chain.GENESIS)
    record = {
        "seq": records + 1,
        "direction": "out",
        "message_id": str(envelope.message_id),
        "dossier_id": envelope.dossier_id,
        "type": envelope.type,
        "sender": envelope.sender.agency,
        "recipient": envelope.recipient,
        "sent_at": utc_text(envelope.sent_at),
        "deadline": None,
        "recorded_at": utc_text(now),
        "body_hash": chain.body_hash(envelope.body()),
        "prev_hash": previous,
        "canonical": "rfc8785",
    }
    record["hash"] = chain.record_hash(record)
    tx.execute(f"INSERT INTO journal ({', '.join(record)}) VALUES ({', '.join('?' * len(record))})", *record.values())
    tx.execute("UPDATE journal_head SET records = ?, hash = ? WHERE id = 1", record["seq"], record["hash"])


def test_a_register_at_version_2_gains_the_anchors_and_the_kept_messages_on_open_and_reads_without_them(
    place, monkeypatch
):
    """Steps 3 (journal_anchors) and 4 (journal_messages) run on open; until then a reader verifies the
    journal as one with no anchor and no kept message; records written before stay in their form."""
    agency = "ofii" if place.kind == "sqlite" else place.schema
    url = str(place.tmp_path / "ofii.sqlite3") if place.kind == "sqlite" else place.url
    with monkeypatch.context() as older:
        older.setattr(migrations, "STEPS", migrations.STEPS[:2])
        reg = Register(url, agency)
        with reg.transaction() as tx:
            journal_in_the_rfc8785_form(tx, recepisse(), NOW)
        reg.close()
    data_dir, database_url = (place.tmp_path, None) if place.kind == "sqlite" else (None, place.url)
    with RegisterReader(agency, data_dir, database_url) as reader:
        verdict = reader.verify_journal()
        assert reader.schema_version() == 2 and verdict.intact and (verdict.records, verdict.anchors) == (1, 0)
    reg = Register(url, agency)
    try:
        assert (reg.migration.found, reg.migration.version) == (2, CURRENT)
        assert reg.read("SELECT seq, shipped_at FROM journal_anchors") == []
        with reg.transaction() as tx:
            tx.journal("out", recepisse(2), NOW)
        assert [r["canonical"] for r in reg.read("SELECT canonical FROM journal ORDER BY seq")] == [
            "rfc8785",
            "rfc8785-2",
        ]
        assert [r["seq"] for r in reg.read("SELECT seq FROM journal_messages")] == [2]
        assert reg.verify_journal().intact
    finally:
        reg.close()


def test_a_register_at_version_5_gains_the_erasures_on_open_and_a_reader_sees_none_before(place, monkeypatch):
    """Step 6 (erasures, docs/retention.md) runs on open: it only adds a table."""
    agency = "ofii" if place.kind == "sqlite" else place.schema
    url = str(place.tmp_path / "ofii.sqlite3") if place.kind == "sqlite" else place.url
    with monkeypatch.context() as older:
        older.setattr(migrations, "STEPS", migrations.STEPS[:5])
        Register(url, agency).close()
    data_dir, database_url = (place.tmp_path, None) if place.kind == "sqlite" else (None, place.url)
    with RegisterReader(agency, data_dir, database_url) as reader:
        assert reader.schema_version() == 5 and reader.erasures() == []
    reg = Register(url, agency)
    try:
        assert reg.migration.found == 5 and reg.migration.version == CURRENT
        assert reg.read("SELECT * FROM erasures") == []
    finally:
        reg.close()
