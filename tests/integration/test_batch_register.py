"""Deliveries handled in one register transaction (`Agency.batch`), and the outbox claimed by one
publisher at a time, on SQLite and on PostgreSQL."""

import dataclasses
from datetime import timedelta

from guichet.agency import Agency
from guichet.clock import VirtualClock
from guichet.envelope import Envelope
from schemas.actes import TransmissionValidee
from tests.conftest import dossier
from tests.integration.test_agency_runtime import OFII, START, envelope, filing, outbox_types, register  # noqa: F401


def test_a_batch_commits_each_message_as_alone_and_a_failing_handler_takes_back_only_its_own_writes(register):
    def boom(message, ctx, state):
        state.waiting_for = "never saved"
        raise RuntimeError("handler fault")

    failing = dataclasses.replace(OFII, handlers={**OFII.handlers, TransmissionValidee: boom})
    agency = Agency(failing, register, VirtualClock(START), simulate_actors=False)
    filed = filing(dossier())
    act = envelope(TransmissionValidee(transmission="transmission_smoe"))
    with agency.batch() as batch:
        outcomes = [
            batch.process(filed.body()),
            batch.process(act.body()),
            batch.process(filed.body()),
            batch.process(b"not json"),
        ]
    assert [o and o.status for o in outcomes] == ["processed", None, "duplicate", "rejected"]
    state = register.state("D-1")
    assert state is not None and state["waiting_for"] != "never saved"
    with register.transaction() as tx:
        assert tx.already_processed(str(filed.message_id)) and not tx.already_processed(str(act.message_id))
        assert [r["message_id"] for r in tx.rows("SELECT message_id FROM journal")] == [str(filed.message_id)]
    assert outbox_types(agency), "the filing's caused messages committed with it"


def test_two_publishers_never_claim_the_same_outbox_row_until_a_claim_goes_stale(register):
    agency = Agency(OFII, register, VirtualClock(START), simulate_actors=False)
    agency.process(filing(dossier()).body())
    later = START + timedelta(days=400)  # every row due, reminders included
    first = register.claim_outbox(later, "a", START, START - timedelta(seconds=30), limit=2)
    second = register.claim_outbox(later, "b", START, START - timedelta(seconds=30))
    assert len(first) == 2 and second and not {r["id"] for r in first} & {r["id"] for r in second}
    assert register.claim_outbox(later, "c", START, START - timedelta(seconds=30)) == []
    again = register.claim_outbox(later, "a", START, START - timedelta(seconds=30))
    assert {r["id"] for r in first} <= {r["id"] for r in again}, "a publisher takes its own claims again"
    stale = register.claim_outbox(later, "c", START + timedelta(minutes=1), START + timedelta(seconds=31))
    assert {r["id"] for r in stale} == {r["id"] for r in first + second}


def test_the_flush_takes_the_envelope_written_by_this_process_else_reads_it_back_from_the_row(register, monkeypatch):
    agency = Agency(OFII, register, VirtualClock(START), simulate_actors=False)
    agency.process(filing(dossier()).body())
    rows = register.due_outbox(START + timedelta(days=400))
    assert rows
    parsed_bodies = []
    parse = Envelope.model_validate_json
    monkeypatch.setattr(
        Envelope, "model_validate_json", classmethod(lambda cls, text: parsed_bodies.append(text) or parse(text))
    )
    written = [register.outbox_envelope(row) for row in rows]
    assert parsed_bodies == [], "the envelopes this process wrote are not parsed again"
    # Taken once: the second look, as after a restart or from another process, parses the body.
    read_back = [register.outbox_envelope(row) for row in rows]
    assert parsed_bodies == [row["body"] for row in rows]
    for row, mine, parsed in zip(rows, written, read_back, strict=True):
        assert mine.body().decode() == row["body"] == parsed.body().decode()
        assert str(mine.message_id) == row["message_id"]
