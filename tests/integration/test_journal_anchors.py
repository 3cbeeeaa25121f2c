"""Anchors (issue 23): the agency signs its journal's head with its own key, keeps the anchors in its
register and ships them in its audit copies. A record edited and the whole chain recomputed, as
whoever can write the register would, is caught by `journal verify` (naming the first record after
the last anchor that holds) and by the supervision store, which never had write access."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from guichet import journal as chain
from guichet.audit_copy import AuditShipper
from guichet.clock import SystemClock
from guichet.envelope import Sender, wrap
from guichet.journal_anchor import Anchorer
from guichet.key_directory import KeyDirectory
from guichet.register import Register
from guichet.trust import Trust, generate
from guichet_cli.main import main
from guichet_operations.supervision.service import Supervisor
from schemas.titre import Recepisse
from tests.console_people import SignedIn
from tests.supervision_stores import store  # noqa: F401 (the fixture, on both dialects)

AGENCY = "prefecture"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def place(request, tmp_path: Path) -> SimpleNamespace:
    keys, path = tmp_path / "keys", tmp_path / "directory.json"
    directory = KeyDirectory(path)
    generate(AGENCY, keys, directory, NOW - timedelta(days=1))
    directory.save()
    schema = f"anchors_{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        register = Register.for_agency(AGENCY, tmp_path / "data")
    else:
        register = Register(request.getfixturevalue("postgres_url"), AGENCY, schema=schema)
    anchorer = Anchorer(AGENCY, register, Trust(KeyDirectory(path), keys), every_records=10)
    yield SimpleNamespace(
        kind=request.param,
        data=tmp_path / "data",
        directory_path=path,
        directory=KeyDirectory(path),
        register=register,
        anchorer=anchorer,
    )
    if request.param == "postgresql":
        with register.transaction() as tx:
            tx.execute(f'DROP SCHEMA "{schema}" CASCADE')
    register.close()


def journal(register: Register, records: int) -> None:
    with register.transaction() as tx:
        for _ in range(records):
            message = Recepisse(valid_until=date(2027, 6, 1))
            tx.journal("out", wrap(message, dossier_id="D-1", sender=Sender(agency=AGENCY), sent_at=NOW), NOW)


def anchored(place: SimpleNamespace, records: int) -> None:
    journal(place.register, records)
    assert place.anchorer.anchor_if_due(NOW, force=True) is not None


def rewrite_register(register: Register, seq: int) -> None:
    """What an attacker with write access does: edit a record (its time of receipt, three days
    earlier), recompute every hash after it and the head."""
    previous = register.read("SELECT hash FROM journal WHERE seq = ?", seq - 1)[0]["hash"]
    rows = register.read("SELECT * FROM journal WHERE seq >= ? ORDER BY seq", seq)
    with register.transaction() as tx:
        for row in rows:
            if row["seq"] == seq:
                earlier = datetime.fromisoformat(row["recorded_at"]) - timedelta(days=3)
                row["recorded_at"] = earlier.isoformat(timespec="microseconds")
            row["prev_hash"] = previous
            row["hash"] = previous = chain.record_hash(row)
            tx.execute(
                "UPDATE journal SET recorded_at = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                row["recorded_at"],
                row["prev_hash"],
                row["hash"],
                row["seq"],
            )
        tx.execute("UPDATE journal_head SET hash = ? WHERE id = 1", previous)


def rewrite(data: Path, seq: int, agency: str = AGENCY) -> None:
    """The same on an agency's SQLite register, opened beside its running service."""
    register = Register.for_agency(agency, data)
    try:
        rewrite_register(register, seq)
    finally:
        register.close()


def test_verify_names_the_first_record_after_the_last_anchor_that_holds(place, capsys):
    anchored(place, 10)
    anchored(place, 10)
    journal(place.register, 5)  # after the last anchor: proven by the chain alone
    intact = place.register.verify_journal(place.directory)
    assert intact.intact and (intact.anchors, intact.anchored, intact.signatures_checked) == (2, 20, True)

    rewrite_register(place.register, 14)
    assert chain.verify(place.register.read("SELECT * FROM journal ORDER BY seq"), None).intact  # the chain holds
    broken = place.register.verify_journal(place.directory)
    assert broken.broken_seq == 11 and "record 20 does not have the hash" in (broken.problem or "")

    if place.kind != "sqlite":
        return  # the command reads an agency's own schema; this register has a schema of the test's
    keys = ["--key-directory", str(place.directory_path)]
    code = main(["journal", "verify", AGENCY, "--data-dir", str(place.data), *keys])
    assert code == 1 and "BROKEN at record 11" in capsys.readouterr().out


def test_a_forged_anchor_fails_its_signature(place):
    anchored(place, 10)
    anchored(place, 10)
    rewrite_register(place.register, 14)
    with place.register.transaction() as tx:  # the anchor's head moved to the new chain
        tx.execute("UPDATE journal_anchors SET head = (SELECT hash FROM journal WHERE seq = 20) WHERE seq = 20")
    # Without the keys, only the heads are checked: a forged head goes unseen (docs/registers.md says so).
    assert place.register.verify_journal(None).intact
    forged = place.register.verify_journal(place.directory)
    assert forged.broken_seq == 11 and "signature does not match" in (forged.problem or "")


def test_the_supervision_store_flags_a_rewritten_chain(place, store):  # noqa: F811 (the fixture)
    supervisor = Supervisor(store, "amqp://localhost", directory=place.directory)
    findings = supervisor.metrics.registry
    assert findings.get_sample_value("guichet_supervision_journal_findings_total", {"agency": AGENCY}) == 0
    bus = SimpleNamespace(
        topology=SimpleNamespace(supervision_exchange=None),
        publish=lambda body, key, *_, **__: supervisor.ingestion.audit_copy(body, key),
    )
    shipper = AuditShipper(AGENCY, place.register, SystemClock())
    anchored(place, 10)
    anchored(place, 10)
    shipper.ship(bus)
    held = store.rows("SELECT seq, signature_status, chain_status FROM anchors ORDER BY seq")
    assert held == [{"seq": s, "signature_status": "valid", "chain_status": "held"} for s in (10, 20)]
    assert not store.rows("SELECT * FROM findings")
    assert not place.register.read("SELECT seq FROM journal_anchors WHERE shipped_at IS NULL")

    rewrite_register(place.register, 14)
    anchored(place, 10)  # the agency goes on, and signs the head of the rewritten chain
    shipper.ship(bus)
    found = store.rows("SELECT agency, seq, kind FROM findings")
    assert found == [{"agency": AGENCY, "seq": 21, "kind": "chain_rewritten"}]
    assert findings.get_sample_value("guichet_supervision_journal_findings_total", {"agency": AGENCY}) == 1

    # An anchor whose signature is not the agency's is a finding too.
    forged = {"seq": 30, "head": "0" * 64, "signed_at": NOW.isoformat(), "key_id": "x", "signature": "AA=="}
    copy = {**shipper._idle_copy(), "message_id": f"{AGENCY}:forged", "anchors": [{**forged, "seq": 31}]}
    supervisor.ingestion.audit_copy(json.dumps(copy), AGENCY)
    assert store.rows("SELECT kind FROM findings WHERE seq = 31") == [{"kind": "invalid_signature"}]

    # The operator sees it on the services page of the console, and the API says it.
    reader = SignedIn(store).person("lecture")
    page = reader.get("/services").text
    assert "Journal modifié" in page and 'data-kind="chain_rewritten"' in page
    assert "ANOMALIE enregistrement 21" in page and "journal réécrit après coup" in page
    journal_state = next(s for s in reader.get("/api/v1/services").json()["sources"] if s["agency"] == AGENCY)[
        "journal"
    ]
    assert journal_state["findings_count"] == 2 and journal_state["proven_up_to"] == 20
    assert {f["kind"] for f in journal_state["findings"]} == {"chain_rewritten", "invalid_signature"}


def test_the_console_shows_a_journal_proven_by_its_anchors_and_no_alert(place, store):  # noqa: F811
    supervisor = Supervisor(store, "amqp://localhost", directory=place.directory)
    bus = SimpleNamespace(
        topology=SimpleNamespace(supervision_exchange=None),
        publish=lambda body, key, *_, **__: supervisor.ingestion.audit_copy(body, key),
    )
    anchored(place, 10)
    AuditShipper(AGENCY, place.register, SystemClock()).ship(bus)
    page = SignedIn(store).person("lecture").get("/services").text
    assert "prouvé jusqu'à l'enregistrement 10 (1 ancre(s) signée(s)" in page
    assert "Journal modifié" not in page and "ANOMALIE" not in page
