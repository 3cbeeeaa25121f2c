"""Erasing a dossier from an agency's register (docs/retention.md; RGPD art. 17 and 5(1)(e)), on
SQLite and PostgreSQL: nothing of the worker is left in any table (nor, on SQLite, in the file's
bytes), the journal still verifies, an open dossier is refused without `force`, and a message
arriving later for the erased dossier is refused instead of opening it again."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from guichet.registers.erasure import ERASED_REASON, Erasure, OpenDossier, erase, table_names
from tests.conftest import dossier
from tests.integration.test_agency_runtime import filing, ofii, register  # noqa: F401 (the fixture)

SURNAME = "ZYGMUNTOWICZ"
WORKER = {"surname": SURNAME, "given_names": "Wiesława"}
NOW = datetime(2026, 2, 1, 9, tzinfo=UTC)


def found_in_tables(reg, text: str) -> list[str]:
    """Every table of the register whose rows, read as text, hold `text`."""
    with reg.transaction() as tx:
        return [t for t in sorted(table_names(tx)) if text in str(tx.rows(f"SELECT * FROM {t}"))]


def found_in_files(tmp_path, text: str) -> list[str]:
    """Every file of the SQLite register (the database, its write-ahead log) whose raw bytes hold `text`:
    SQLite leaves deleted rows in free pages unless they are overwritten."""
    return [p.name for p in tmp_path.glob("ofii.sqlite3*") if text.encode() in p.read_bytes()]


def with_messages_of_its_own(register, env) -> None:
    """What an agency holds of a dossier beside its state: a message sent (confirmed by the broker),
    one not sent yet, a delayed retry; each carrying the worker's data as the filing does."""
    sent, unsent = (env.model_copy(update={"message_id": uuid.uuid4()}) for _ in range(2))
    with register.transaction() as tx:
        tx.add_outbox(sent, NOW)
        tx.add_outbox(unsent, NOW)
        tx.execute("INSERT INTO delayed (routing_key, body, headers, due_at) VALUES (?, ?, '{}', ?)",
                   "ofii.x", env.body().decode(), "2026-02-02")  # fmt: skip
    register.mark_all_published(
        [(register.read("SELECT * FROM outbox WHERE message_id = ?", str(sent.message_id))[0], sent)], NOW
    )


def decision(force_reason: str = "décision du délégué à la protection des données n° 17") -> Erasure:
    return Erasure("D-1", "decision", force_reason, "dpo@ofii", NOW)


def test_an_erased_dossier_leaves_no_trace_of_the_worker_and_its_journal_still_verifies(register, tmp_path):
    agency = ofii(register)
    env = filing(dossier(worker=WORKER))
    assert agency.process(env.body()).status == "processed"
    with_messages_of_its_own(register, env)
    assert {"dossiers", "outbox", "delayed"} <= set(found_in_tables(register, SURNAME))
    before = register.verify_journal()

    # docs/retention.md, "A dossier still open": the filing opened the DT-OFII's tasks.
    with pytest.raises(OpenDossier, match="still open"):
        erase(register, [decision()])
    assert "dossiers" in found_in_tables(register, SURNAME), "a refused erasure changes nothing"

    unsent = register.read("SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL")[0]["n"]
    done = erase(register, [decision()], force=True)
    assert (done["D-1"]["states"], done["D-1"]["outbox"], done["D-1"]["delayed"]) == (1, 1, 1)
    assert done["D-1"]["withdrawn"] == unsent, "the message not sent yet and the tasks' reminders"
    assert found_in_tables(register, SURNAME) == []
    assert found_in_tables(register, "Wiesława") == []
    if register.dialect.name == "sqlite":
        assert found_in_files(tmp_path, SURNAME) == []

    # The journal's records and hashes stay: the chain verifies, with as many records as before.
    after = register.verify_journal()
    assert after.intact and after.records == before.records and after.head == before.head
    kept = register.read("SELECT m.body, m.state, m.erased_at, m.erasure_reason FROM journal_messages m")
    assert kept and all(k["body"] is None and k["state"] is None and k["erased_at"] for k in kept)
    assert {k["erasure_reason"] for k in kept} == {decision().reason}
    erasures = register.read("SELECT dossier_id, kind, reason, decided_by FROM erasures")
    assert erasures == [
        {"dossier_id": "D-1", "kind": "decision", "reason": decision().reason, "decided_by": "dpo@ofii"}
    ]
    assert register.read("SELECT COUNT(*) AS n FROM tasks WHERE closed_at IS NULL")[0]["n"] == 0


def test_a_message_for_an_erased_dossier_is_refused_and_does_not_open_it_again(register, tmp_path):
    agency = ofii(register)
    first = filing(dossier(worker=WORKER))
    assert agency.process(first.body()).status == "processed"
    erase(register, [decision()], force=True)
    records = register.verify_journal().records

    later = filing(dossier(worker=WORKER))
    last_id = str(later.message_id)
    outcome = agency.process(later.body())
    assert (outcome.status, outcome.reason) == ("rejected", ERASED_REASON)
    assert "was erased" in outcome.error
    assert found_in_tables(register, SURNAME) == [], "the refused message left nothing personal"
    assert register.state("D-1") is None
    verdict = register.verify_journal()
    assert verdict.intact and verdict.records == records + 1, "the refusal is journaled"
    last = register.read("SELECT body FROM journal_messages ORDER BY seq DESC LIMIT 1")[0]["body"]
    assert json.loads(last) == {"erased": True, "message_id": last_id, "dossier_id": "D-1"}, "kept: its ids alone"

    # The first filing's id used again with another content: refused (message_id_reused), and kept as its ids too.
    reused = first.model_copy(update={"sent_at": first.sent_at + timedelta(minutes=1)})
    assert agency.process(reused.body()).reason == "message_id_reused"
    assert found_in_tables(register, SURNAME) == [] and register.verify_journal().intact


def test_erasing_twice_keeps_the_first_erasure_and_changes_nothing(register):
    agency = ofii(register)
    env = filing(dossier(worker=WORKER))
    agency.process(env.body())
    with_messages_of_its_own(register, env)
    assert erase(register, [decision()], force=True)["D-1"]["outbox"] == 1
    again = erase(register, [Erasure("D-1", "retention", "period passed", "retention", NOW)], force=True)
    assert (again["D-1"]["states"], again["D-1"]["outbox"], again["D-1"]["withdrawn"]) == (0, 0, 0)
    assert [r["kind"] for r in register.read("SELECT kind FROM erasures")] == ["decision"]


def test_an_erasure_says_why_and_who():
    with pytest.raises(ValueError, match="reason"):
        Erasure("D-1", "decision", " ", "dpo", NOW)
    with pytest.raises(ValueError, match="decided_by"):
        Erasure("D-1", "decision", "why", "", NOW)
    with pytest.raises(ValueError, match="kind"):
        Erasure("D-1", "whim", "why", "dpo", NOW)


def test_an_erasure_while_the_agencys_service_holds_the_register_open_leaves_its_files_clean(tmp_path):
    """The services may run meanwhile (docs/retention.md): a second connection, as the agency's
    service keeps, does not keep the erased pages in the write-ahead log."""
    from guichet.register import Register

    service = Register(str(tmp_path / "ofii.sqlite3"), "ofii")
    tool = Register(str(tmp_path / "ofii.sqlite3"), "ofii")
    try:
        agency = ofii(service)
        assert agency.process(filing(dossier(worker=WORKER)).body()).status == "processed"
        assert found_in_files(tmp_path, SURNAME)
        erase(tool, [decision()], force=True)
        assert found_in_files(tmp_path, SURNAME) == []
        later = agency.process(filing(dossier(worker=WORKER)).body())
        assert later.reason == ERASED_REASON, "the service sees the erasure at once"
        assert found_in_files(tmp_path, SURNAME) == []
    finally:
        tool.close()
        service.close()


def test_a_signed_receipt_of_the_dossier_stays_whole_through_its_erasure(register):
    """A receipt holds ids, hashes and a signature, no personal data (guichet/delivery_receipts.py):
    the proof that a transmission was accepted outlives the person's data (docs/retention.md)."""
    from guichet.delivery_receipts import receipt_for

    agency = ofii(register)
    env = filing(dossier(worker=WORKER))
    agency.process(env.body())
    record = register.read("SELECT * FROM journal WHERE message_id = ?", str(env.message_id))[0]
    receipt = receipt_for("ofii", None, env, record, NOW)
    with register.transaction() as tx:
        tx.add_outbox(receipt, NOW)
    register.mark_all_published(
        [(register.read("SELECT * FROM outbox WHERE message_id = ?", str(receipt.message_id))[0], receipt)], NOW
    )
    erase(register, [decision()], force=True)

    kept = register.read(
        "SELECT m.body, m.erased_at FROM journal_messages m JOIN journal j ON j.seq = m.seq WHERE j.message_id = ?",
        str(receipt.message_id),
    )
    assert kept[0]["erased_at"] is None and json.loads(kept[0]["body"])["message_id"] == str(receipt.message_id)
    sent = register.read("SELECT body FROM outbox WHERE message_id = ?", str(receipt.message_id))
    assert json.loads(sent[0]["body"])["type"] == receipt.type
    assert found_in_tables(register, SURNAME) == [] and register.verify_journal().intact
