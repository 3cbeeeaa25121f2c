"""Signed receipts between the administrations (AS4's non-repudiation of receipt is the model): the
receiver of a transmission returns, in the same transaction, a receipt signed with its key naming
the message, the hash of its bytes as received and its own journal record; the sender keeps it
with the message, and believes it only as far as it can check it (its own outbox, the key
directory). Circulaire 2012, II.A.1: the DT-OFII transmits the dossier to the labour service."""

import json

import pytest

from guichet import delivery_receipts as receipts
from guichet.agency import Agency
from guichet.clock import VirtualClock
from guichet.envelope import decode, new_message_id
from guichet.journal import body_hash
from guichet.register import Register, from_text
from guichet.trust import KeyDirectory, Trust
from services.bootstrap import compose
from tests.conftest import DIRECTORY
from tests.integration.test_signed_messages import START, employer_filing, make_keys

AGENCIES = compose(DIRECTORY).agencies


@pytest.fixture
def pair(tmp_path):
    """The DT-OFII and the SMOE, each with its register, signing with its own key."""
    directory, keys = make_keys(tmp_path, ("ofii", "employeur", "travailleur", "prefecture", "smoe", "consulat"))
    trust = Trust(KeyDirectory(directory), keys)
    made = {
        name: Agency(
            AGENCIES[name],
            Register(str(tmp_path / f"{name}.sqlite3"), name),
            VirtualClock(START),
            simulate_actors=name == "ofii",  # the DT-OFII's agent acts: she transmits the dossier
            trust=trust,
        )
        for name in ("ofii", "smoe", "prefecture")
    }
    yield made, trust
    for agency in made.values():
        agency.register.close()


def outbox_to(agency, recipient):
    return [
        r
        for r in agency.register.read("SELECT * FROM outbox ORDER BY id")
        if r["routing_key"].startswith(f"{recipient}.")
    ]


def run_until_sent(agency, recipient, turns=20):
    """Play the agency's own acts and reminders in the order they fall due, on its clock, until it
    sends something to `recipient`."""
    for _ in range(turns):
        if sent := outbox_to(agency, recipient):
            return sent
        own = [r for r in outbox_to(agency, agency.name) if r["published_at"] is None]
        row = min(own, key=lambda r: (r["due_at"], r["id"]))
        agency.clock.advance_to(from_text(row["due_at"]))
        with agency.register.transaction() as tx:
            tx.execute("UPDATE outbox SET published_at = due_at WHERE id = ?", row["id"])
        agency.process(row["body"], json.loads(row["headers"]))
    raise AssertionError(f"{agency.name} sent nothing to {recipient}")


def transmitted(pair):
    """The employer files with the DT-OFII, whose agent transmits the dossier to the SMOE (II.A.1);
    the SMOE takes it."""
    made, trust = pair
    ofii, smoe = made["ofii"], made["smoe"]
    assert ofii.process(trust.sign(employer_filing("D-RECU")).body()).status == "processed"
    (sent,) = run_until_sent(ofii, "smoe")
    smoe.clock.advance_to(ofii.clock.now())
    assert smoe.process(sent["body"], json.loads(sent["headers"])).status == "processed"
    return sent


def test_the_receiver_returns_a_signed_receipt_of_the_bytes_it_received(pair):
    made, _ = pair
    sent = transmitted(pair)
    smoe = made["smoe"]
    (receipt_row,) = outbox_to(smoe, "ofii")
    assert receipt_row["routing_key"] == "ofii.smoe.accuse_reception"
    receipt = json.loads(receipt_row["body"])
    assert receipt["signature"] and receipt["sender"]["agency"] == "smoe" and receipt["recipient"] == "ofii"
    payload = receipt["payload"]
    assert payload["message_id"] == sent["message_id"]
    assert payload["message_hash"] == body_hash(sent["body"].encode())
    record = smoe.register.read(
        "SELECT seq, hash FROM journal WHERE message_id = ? AND direction = 'in'", sent["message_id"]
    )
    assert (payload["record_seq"], payload["record_hash"]) == (record[0]["seq"], record[0]["hash"])


def test_the_sender_keeps_the_receipt_with_its_message(pair):
    made, _ = pair
    sent = transmitted(pair)
    ofii, smoe = made["ofii"], made["smoe"]
    (receipt_row,) = outbox_to(smoe, "ofii")
    outcome = ofii.process(receipt_row["body"], json.loads(receipt_row["headers"]))
    assert outcome.status == "processed"
    (kept,) = ofii.register.read("SELECT * FROM receipts")
    assert (kept["message_id"], kept["receiver"]) == (sent["message_id"], "smoe")
    journaled = ofii.register.read(
        "SELECT j.direction, m.body FROM journal j JOIN journal_messages m ON m.seq = j.seq WHERE j.seq = ?",
        kept["journal_seq"],
    )
    assert journaled == [{"direction": receipts.RECEIPT, "body": receipt_row["body"]}]
    # A receipt is not acknowledged in turn, and a redelivered one changes nothing.
    assert not outbox_to(ofii, "smoe")[1:]
    assert ofii.process(receipt_row["body"], json.loads(receipt_row["headers"])).status == "duplicate"
    assert ofii.register.verify_journal().intact


def forged(trust, receipt_row, **payload):
    """The receipt of `receipt_row` with its payload changed, signed again with the SMOE's key."""
    envelope, _ = decode(
        receipt_row["body"],
        None,
        messages=receipts.with_receipts(compose(DIRECTORY).messages, "ofii", frozenset({"smoe"})),
    )
    changed = envelope.model_copy(
        update={"message_id": new_message_id(), "payload": {**envelope.payload, **payload}, "signature": None}
    )
    return trust.sign(changed).body()


def test_a_receipt_of_other_bytes_or_of_a_message_never_sent_is_refused_with_its_reason(pair):
    made, trust = pair
    transmitted(pair)
    ofii, smoe = made["ofii"], made["smoe"]
    (receipt_row,) = outbox_to(smoe, "ofii")
    other_bytes = ofii.process(forged(trust, receipt_row, message_hash="0" * 64))
    assert (other_bytes.status, other_bytes.reason) == ("rejected", "receipt_mismatch")
    assert "not that of the bytes ofii sent" in other_bytes.error
    never_sent = ofii.process(forged(trust, receipt_row, message_id="01900000-0000-7000-8000-0000000000ff"))
    assert never_sent.reason == "receipt_mismatch" and "never sent" in never_sent.error
    assert ofii.register.read("SELECT * FROM receipts") == []
    refused = ofii.register.read("SELECT direction FROM journal WHERE direction = ?", receipts.RECEIPT_REFUSED)
    assert len(refused) == 2  # both stay in the evidence
    # Delivered again (an operator's replay), a refused receipt is judged again, and journaled once.
    again = ofii.process(forged_bytes := forged(trust, receipt_row, message_hash="1" * 64))
    assert again.reason == "receipt_mismatch" and ofii.process(forged_bytes).reason == "receipt_mismatch"
    assert len(ofii.register.read("SELECT seq FROM journal WHERE direction = ?", receipts.RECEIPT_REFUSED)) == 3


def test_a_receipt_from_a_party_the_message_did_not_go_to_is_refused(pair):
    made, trust = pair
    sent = transmitted(pair)
    ofii = made["ofii"]
    # The préfecture acknowledges a transmission the DT-OFII sent to the SMOE: signed with the
    # préfecture's own key, so its signature holds; the DT-OFII's outbox says otherwise.
    receipt = receipts.receipt_for(
        "prefecture",
        None,
        decode(sent["body"], None, messages=compose(DIRECTORY).messages)[0],
        {"message_hash": body_hash(sent["body"].encode()), "seq": 1, "hash": "a" * 64},
        START,
    )
    outcome = ofii.process(trust.sign(receipt).body())
    assert outcome.reason == "receipt_mismatch" and "sent to another party" in outcome.error


def test_a_receipt_not_signed_by_its_receiver_is_refused_before_it_is_read(pair):
    made, trust = pair
    transmitted(pair)
    ofii, smoe = made["ofii"], made["smoe"]
    (receipt_row,) = outbox_to(smoe, "ofii")
    unsigned = json.loads(receipt_row["body"]) | {"signature": None, "key_id": None, "canonical": None}
    outcome = ofii.process(json.dumps(unsigned))
    assert outcome.status == "rejected" and outcome.reason == "unsigned"
    assert ofii.register.read("SELECT * FROM receipts") == []


def test_without_keys_no_receipt_is_sent(tmp_path):
    ofii = Agency(AGENCIES["ofii"], Register(str(tmp_path / "ofii.sqlite3"), "ofii"), VirtualClock(START))
    smoe = Agency(AGENCIES["smoe"], Register(str(tmp_path / "smoe.sqlite3"), "smoe"), VirtualClock(START))
    try:
        ofii.process(employer_filing("D-NOKEY").body())
        ofii.actors = AGENCIES["ofii"].actors
        (sent,) = run_until_sent(ofii, "smoe")
        smoe.clock.advance_to(ofii.clock.now())
        assert smoe.process(sent["body"], json.loads(sent["headers"])).status == "processed"
        assert outbox_to(smoe, "ofii") == []
    finally:
        ofii.register.close()
        smoe.register.close()


def test_a_receipt_after_the_dossier_s_data_was_erased_is_judged_by_the_journal_s_hash(pair):
    """RGPD art. 17 erases the outbox body; the journal's record of the message sent keeps its hash, by
    which a receipt that comes late is still judged (docs/retention.md)."""
    made, trust = pair
    transmitted(pair)
    ofii, smoe = made["ofii"], made["smoe"]
    sent = outbox_to(ofii, "smoe")
    envelopes = {r["message_id"]: decode(r["body"], None, messages=compose(DIRECTORY).messages)[0] for r in sent}
    ofii.register.mark_all_published([(r, envelopes[r["message_id"]]) for r in sent], START)
    with ofii.register.transaction() as tx:
        tx.execute("UPDATE outbox SET body = '{\"erased\":true}', headers = '{}' WHERE routing_key LIKE 'smoe.%'")
    (receipt_row,) = outbox_to(smoe, "ofii")
    assert ofii.process(forged(trust, receipt_row, message_hash="2" * 64)).reason == "receipt_mismatch"
    assert ofii.process(receipt_row["body"], json.loads(receipt_row["headers"])).status == "processed"
