"""The journal keeps each message as it was received, signature included, and the dossier's state it
left, both proven by the record's hash: what a party sent can be shown later byte for byte (issue
"a journal that proves"); an edit of either is named by `journal verify`; an erasure (personal data
past its period) leaves the chain verifiable."""

import json

import pytest

from guichet import journal as chain
from guichet.agency import Agency
from guichet.clock import VirtualClock
from guichet.register import Register
from guichet.trust import KeyDirectory, Trust
from tests.integration.test_signed_messages import OFII, START, employer_filing, make_keys


@pytest.fixture
def ofii(tmp_path):
    directory, keys = make_keys(tmp_path, ("ofii", "employeur", "travailleur", "prefecture", "smoe"))
    trust = Trust(KeyDirectory(directory), keys)
    register = Register(str(tmp_path / "ofii.sqlite3"), "ofii")
    yield Agency(OFII, register, VirtualClock(START), trust=trust), trust
    register.close()


def delivered(trust, dossier_id="D-KEPT"):
    """A signed filing as a connector may put it on the wire: its own key order and whitespace."""
    envelope = trust.sign(employer_filing(dossier_id))
    document = json.loads(envelope.body())
    return json.dumps(dict(reversed(list(document.items()))), indent=1).encode()


def first_in(register):
    return register.read(
        "SELECT j.*, m.body AS kept, m.state AS kept_state FROM journal j JOIN journal_messages m ON m.seq = j.seq "
        "WHERE j.direction = 'in' ORDER BY j.seq LIMIT 1"
    )[0]


def test_the_message_is_kept_as_it_was_received_and_the_state_as_it_was_left(ofii):
    agency, trust = ofii
    body = delivered(trust)
    assert agency.process(body).status == "processed"
    record = first_in(agency.register)
    assert record["kept"].encode() == body  # byte for byte, the sender's signature with it
    assert json.loads(record["kept"])["signature"]
    assert record["message_hash"] == chain.body_hash(body)
    state = agency.register.read("SELECT state FROM dossiers WHERE dossier_id = 'D-KEPT'")[0]["state"]
    assert record["kept_state"] == state and record["state_hash"] == chain.text_hash(state)
    assert record["canonical"] == chain.KEPT and agency.register.verify_journal().intact


def test_what_the_agency_sent_is_kept_as_it_went_to_the_broker(ofii):
    agency, trust = ofii
    agency.process(delivered(trust))
    register = agency.register
    rows = register.read("SELECT * FROM outbox WHERE published_at IS NULL ORDER BY id")
    assert rows
    envelopes = {r["message_id"]: agency.read(r["body"], json.loads(r["headers"]), "application/json") for r in rows}
    register.mark_all_published([(r, envelopes[r["message_id"]].envelope) for r in rows], START)
    kept = register.read(
        "SELECT m.body, o.body AS published, j.message_hash FROM journal j JOIN journal_messages m ON m.seq = j.seq "
        "JOIN outbox o ON o.message_id = j.message_id WHERE j.direction = 'out'"
    )
    assert len(kept) == len(rows)
    assert all(r["body"] == r["published"] and r["message_hash"] == chain.text_hash(r["published"]) for r in kept)
    assert register.verify_journal().intact


@pytest.mark.parametrize("column", ["body", "state"])
def test_an_edited_kept_message_or_state_is_named_by_journal_verify(ofii, column):
    agency, trust = ofii
    agency.process(delivered(trust))
    record = first_in(agency.register)
    kept = json.loads(record["kept" if column == "body" else "kept_state"])
    kept["dossier_id" if "dossier_id" in kept else next(iter(kept))] = "D-OTHER"
    with agency.register.transaction() as tx:
        tx.execute(f"UPDATE journal_messages SET {column} = ? WHERE seq = ?", json.dumps(kept), record["seq"])
    verdict = agency.register.verify_journal()
    assert verdict.broken_seq == record["seq"]
    assert ("message_hash" if column == "body" else "state_hash") in verdict.problem


def test_a_deleted_kept_message_is_named_and_an_erased_one_is_not(ofii):
    agency, trust = ofii
    agency.process(delivered(trust))
    seq = first_in(agency.register)["seq"]
    with agency.register.transaction() as tx:
        tx.execute(
            "UPDATE journal_messages SET body = NULL, state = NULL, erased_at = '2026-02-01T00:00:00+00:00', "
            "erasure_reason = 'retention' WHERE seq = ?",
            seq,
        )
    assert agency.register.verify_journal().intact  # erased: the hashes stay, the chain verifies
    with agency.register.transaction() as tx:
        tx.execute("DELETE FROM journal_messages WHERE seq = ?", seq)
    verdict = agency.register.verify_journal()
    assert verdict.broken_seq == seq and "no kept message" in verdict.problem


def test_a_refused_message_is_kept_as_it_came_too(ofii):
    """A message the receiver refused (here: a step the dossier is not at) stays evidence of what
    the sender sent, byte for byte."""
    agency, trust = ofii
    agency.process(delivered(trust))
    again = delivered(trust)  # the same filing under a new message id: the dossier is past its deposit
    outcome = agency.process(again)
    rows = agency.register.read(
        "SELECT j.direction, m.body FROM journal j JOIN journal_messages m ON m.seq = j.seq "
        "WHERE j.direction LIKE 'in_%' ORDER BY j.seq"
    )
    assert outcome.status in ("rejected", "duplicate")
    assert rows and rows[-1]["body"].encode() == again
