"""Journal records are hashed over RFC 8785 canonical JSON, the form named in each record; a
register whose records were hashed the legacy way keeps verifying, and tampering is caught in
both forms. Dossier numbers are ASCII (guichet/envelope.py); the legacy records keep theirs as written."""

import hashlib
import json
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from guichet import journal as chain
from guichet.envelope import Sender, wrap
from guichet.register import Register
from schemas.titre import Recepisse

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
FIELDS = (
    "seq",
    "direction",
    "message_id",
    "dossier_id",
    "type",
    "sender",
    "recipient",
    "sent_at",
    "deadline",
    "recorded_at",
    "body_hash",
    "prev_hash",
)


def legacy_record_hash(record):
    """The record hash as every register wrote it before RFC 8785."""
    canonical = json.dumps([record.get(f) for f in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def write_legacy_journal(execute, records: int) -> None:
    """A register's journal as it was before the `canonical` column: legacy-hashed records, their head."""
    execute("""CREATE TABLE journal (
        seq BIGINT PRIMARY KEY, direction TEXT NOT NULL, message_id TEXT NOT NULL,
        dossier_id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
        sent_at TEXT NOT NULL, deadline TEXT, recorded_at TEXT NOT NULL,
        body_hash TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""")
    execute("CREATE TABLE journal_head (id INTEGER PRIMARY KEY, records BIGINT NOT NULL, hash TEXT NOT NULL)")
    previous = chain.GENESIS
    for seq in range(1, records + 1):
        record = {
            "seq": seq,
            "direction": "in",
            "message_id": f"m-{seq}",
            "dossier_id": "D-Ørsted",
            "type": "prefecture.recepisse",
            "sender": "prefecture",
            "recipient": "ofii",
            "sent_at": f"2026-02-0{seq}T08:00:00.000000+00:00",
            "deadline": None,
            "recorded_at": f"2026-02-0{seq}T08:00:01.000000+00:00",
            "body_hash": "ab" * 32,
            "prev_hash": previous,
        }
        record["hash"] = previous = legacy_record_hash(record)
        execute(f"INSERT INTO journal ({', '.join(record)}) VALUES ({', '.join('?' * len(record))})", *record.values())
    execute("INSERT INTO journal_head (id, records, hash) VALUES (1, ?, ?)", records, previous)


def open_legacy_register(kind: str, tmp_path, postgres_url: str | None = None) -> tuple[Register, str | None]:
    """Three legacy records in SQLite or in a PostgreSQL schema, then opened by this version."""
    if kind == "sqlite":
        path = tmp_path / "ofii.sqlite3"
        with sqlite3.connect(path) as conn:
            write_legacy_journal(lambda sql, *args: conn.execute(sql, args), 3)
        conn.close()
        return Register(str(path), "ofii"), None
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:10]}_ofii"
    conn = psycopg.connect(postgres_url, autocommit=True)
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        write_legacy_journal(lambda sql, *args: conn.execute(sql.replace("?", "%s"), args), 3)
    return Register(postgres_url, "ofii", schema=schema), schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def upgraded(request, tmp_path):
    """A legacy register opened by this version, which then appends two records."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    register, schema = open_legacy_register(request.param, tmp_path, url)
    assert register.verify_journal().intact and register.verify_journal().records == 3
    for day in (1, 2):
        envelope = wrap(
            Recepisse(valid_until=date(2026, 6, day)),
            dossier_id="D-ELOISE",
            sender=Sender(agency="prefecture"),
            sent_at=NOW + timedelta(days=day),
        )
        with register.transaction() as tx:
            tx.journal("in", envelope, NOW + timedelta(days=day, seconds=1))
    yield register
    if schema is not None:
        register._conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    register.close()


def edit(register, sql, *args):
    with register.transaction() as tx:
        tx.execute(sql, *args)


def test_rfc8785_journal_keeps_legacy_records_and_hashes_new_ones_in_jcs(upgraded):
    register = upgraded
    verdict = register.verify_journal()
    assert verdict.intact and verdict.records == 5
    with register.transaction() as tx:
        rows = tx.rows("SELECT * FROM journal ORDER BY seq")
    assert [r["canonical"] for r in rows] == [None, None, None, "rfc8785-2", "rfc8785-2"]
    # The documented form, rebuilt by hand as a verifier in another language would.
    fourth = rows[3]
    expected = (
        f'{{"body_hash":"{fourth["body_hash"]}","canonical":"rfc8785-2","deadline":null,"direction":"in",'
        f'"dossier_id":"D-ELOISE","message_hash":"{fourth["message_hash"]}","message_id":"{fourth["message_id"]}",'
        f'"prev_hash":"{rows[2]["hash"]}","recipient":"ofii","recorded_at":"{fourth["recorded_at"]}",'
        f'"sender":"prefecture","sent_at":"{fourth["sent_at"]}","seq":4,"state_hash":null,'
        f'"type":"prefecture.recepisse"}}'
    )
    assert fourth["hash"] == hashlib.sha256(expected.encode()).hexdigest()
    assert fourth["prev_hash"] == rows[2]["hash"]


@pytest.mark.parametrize("seq", [2, 4])
def test_rfc8785_journal_catches_an_edited_record_in_either_form(upgraded, seq):
    register = upgraded
    edit(register, "UPDATE journal SET sent_at = '2026-02-09T08:00:00.000000+00:00' WHERE seq = ?", seq)
    verdict = register.verify_journal()
    assert verdict.broken_seq == seq and "altered" in verdict.problem


def test_rfc8785_journal_catches_a_record_whose_form_was_switched(upgraded):
    register = upgraded
    edit(register, "UPDATE journal SET canonical = NULL WHERE seq = 5")  # pass an RFC 8785 record off as legacy
    assert register.verify_journal().broken_seq == 5
    edit(register, "UPDATE journal SET canonical = 'rfc8785' WHERE seq = 5")  # or as the form without kept hashes
    verdict = register.verify_journal()
    assert verdict.broken_seq == 5 and "after records in a later one" in verdict.problem
    edit(register, "UPDATE journal SET canonical = 'rfc8785-2' WHERE seq = 5")
    assert register.verify_journal().intact
    edit(register, "UPDATE journal SET canonical = 'rfc8785' WHERE seq = 2")  # or a legacy record as RFC 8785
    verdict = register.verify_journal()
    assert verdict.broken_seq == 2 and "altered" in verdict.problem


def test_rfc8785_journal_catches_a_deleted_legacy_record_and_a_cut_end(upgraded):
    register = upgraded
    edit(register, "DELETE FROM journal WHERE seq = 5")
    assert register.verify_journal().broken_seq == 5  # the head says 5 records
    edit(register, "DELETE FROM journal WHERE seq = 1")
    verdict = register.verify_journal()
    assert verdict.broken_seq == 1 and "missing" in verdict.problem
