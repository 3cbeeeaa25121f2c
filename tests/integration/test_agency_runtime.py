"""The agency runtime on a real register, without a broker: idempotency, outbox, and a handler
sequence driven message by message (fakes none: the envelope, register and clock are the real ones)."""

import json
import uuid
from datetime import datetime

import pytest

from guichet.agency import Agency
from guichet.clock import VirtualClock
from guichet.envelope import Sender, wrap
from guichet.register import Register
from guichet.timeutil import PARIS
from schemas.actes import TransmissionValidee
from schemas.autorisation_travail import ComplementAdresse, Criteria, DecisionAutorisationTravail
from schemas.dossier import Address
from services.bootstrap import compose
from tests.conftest import DIRECTORY, dossier, scenario

OFII = compose(DIRECTORY).agencies["ofii"]

START = datetime(2026, 1, 5, 9, tzinfo=PARIS)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register(request, tmp_path):
    """The same register tests on SQLite (the default) and on PostgreSQL (given by URL)."""
    if request.param == "sqlite":
        reg = Register(str(tmp_path / "ofii.sqlite3"), "ofii")
        yield reg
        reg.close()
        return
    url = request.getfixturevalue("postgres_url")
    schema = f"test_{uuid.uuid4().hex[:10]}_ofii"
    reg = Register(url, "ofii", schema=schema)
    yield reg
    reg._conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    reg.close()


def ofii(register) -> Agency:
    return Agency(OFII, register, VirtualClock(START), simulate_actors=False)


def envelope(message, sender="ofii"):
    # The employer acts by its SIRET, as the employers' portal authenticates it (that of conftest.dossier()).
    office = dossier()["employer"]["siret"] if sender == "employeur" else None
    return wrap(message, dossier_id="D-1", sender=Sender(agency=sender, office=office), sent_at=START)


def outbox_types(agency: Agency) -> list[str]:
    with agency.register.transaction() as tx:
        return [r["type"] for r in tx.rows("SELECT type FROM outbox ORDER BY id")]


def filing(raw: dict):
    from services.intake import filing as make

    return make("D-1", scenario(raw).dossiers[0], "circulaire-2012", START, DIRECTORY)


def test_a_redelivered_message_changes_nothing(register):
    agency = ofii(register)
    env = filing(dossier())
    assert agency.process(env.body()).status == "processed"
    before = (agency.register.state("D-1"), outbox_types(agency))
    assert agency.process(env.body()).status == "duplicate"
    assert (agency.register.state("D-1"), outbox_types(agency)) == before


def test_state_processed_id_and_caused_messages_commit_together(register):
    agency = ofii(register)
    agency.process(filing(dossier()).body())
    agency.process(envelope(TransmissionValidee(transmission="transmission_smoe")).body())
    assert "ofii.transmission_smoe" in outbox_types(agency)
    assert agency.register.state("D-1")["waiting_for"] == "decision_autorisation_travail"


def test_II_B_dossier_held_for_the_address_goes_to_the_consulate_once_completed(register):
    agency = ofii(register)
    incomplete = dossier(worker={"address_abroad": {"line": "12 MG Road", "city": "Bengaluru"}})
    agency.process(filing(incomplete).body())
    agency.process(envelope(TransmissionValidee(transmission="transmission_smoe")).body())
    ok = Criteria(situation_emploi_ok=True, remuneration_ok=True, employer_compliant=True)
    agency.process(envelope(DecisionAutorisationTravail(favorable=True, criteria=ok), sender="smoe").body())
    agency.process(envelope(TransmissionValidee(transmission="transmission_consulat")).body())
    assert "ofii.transmission_consulat" not in outbox_types(agency)
    assert agency.register.state("D-1")["waiting_for"] == "complement_adresse"
    address = Address(line="12 MG Road", city="Bengaluru", country="IND", phone="+91 80", email="j@example.org")
    agency.process(envelope(ComplementAdresse(address_abroad=address), sender="employeur").body())
    assert outbox_types(agency).count("ofii.transmission_consulat") == 1
    body = next(json.loads(r["body"]) for r in _rows(agency) if r["type"] == "ofii.transmission_consulat")
    assert body["payload"]["dossier"]["worker"]["address_abroad"]["email"] == "j@example.org"


def test_a_message_for_another_agency_is_refused_with_its_reason(register):
    from schemas.actes import TitreProduit

    outcome = ofii(register).process(envelope(TitreProduit(), sender="prefecture").body())
    assert outcome.status == "rejected" and outcome.reason == "not_for_this_agency"


def _rows(agency):
    with agency.register.transaction() as tx:
        return tx.rows("SELECT type, body FROM outbox ORDER BY id")


def test_an_act_for_a_dossier_the_agency_never_received_is_refused_not_crashed_on(register):
    outcome = ofii(register).process(envelope(TransmissionValidee(transmission="transmission_smoe")).body())
    assert outcome.status == "rejected" and outcome.reason == "unknown_dossier"


def _pending_reminders(agency) -> list[tuple[str, str]]:
    with agency.register.transaction() as tx:
        rows = tx.rows("SELECT body FROM outbox WHERE published_at IS NULL AND type = 'ofii.veille.echeance'")
    return sorted((json.loads(r["body"])["payload"]["task"], json.loads(r["body"])["payload"]["kind"]) for r in rows)


def test_II_E_1_a_step_that_ends_withdraws_its_pending_reminders_and_the_others_stay(register):
    agency = ofii(register)
    agency.process(filing(dossier()).body())
    assert ("transmission_smoe", "depassement") in _pending_reminders(agency)
    agency.process(envelope(TransmissionValidee(transmission="transmission_smoe")).body())
    pending = _pending_reminders(agency)
    assert not [p for p in pending if p[0] == "transmission_smoe"]
    assert ("traitement_autorisation_travail", "depassement") in pending


def test_II_D_a_closed_dossier_has_no_reminder_left_to_fire(register):
    from schemas.autorisation_travail import DecisionAutorisationTravail as Decision

    agency = ofii(register)
    agency.process(filing(dossier()).body())
    agency.process(envelope(TransmissionValidee(transmission="transmission_smoe")).body())
    refused = Criteria(situation_emploi_ok=True, remuneration_ok=False, employer_compliant=True)
    agency.process(
        envelope(Decision(favorable=False, criteria=refused, reasons=["rémunération"]), sender="smoe").body()
    )
    assert agency.register.state("D-1")["outcome"] == "autorisation_travail_refusee"
    assert _pending_reminders(agency) == []
    with agency.register.transaction() as tx:
        still_open = [r["task"] for r in tx.rows("SELECT task FROM tasks WHERE closed_at IS NULL")]
    assert still_open == ["recours_gracieux"], "the recours opened after the refusal stays open"


def test_II_C_2_a_card_due_at_the_two_month_mark_is_published_before_the_mark_reminder(tmp_path):
    from schemas.titre import TransmissionPrefecture

    PREFECTURE = compose(DIRECTORY).agencies["prefecture"]
    register = Register(str(tmp_path / "prefecture.sqlite3"), "prefecture")
    received = datetime(2026, 2, 19, 9, tzinfo=PARIS)
    agency = Agency(PREFECTURE, register, VirtualClock(received))  # the two months run from its own receipt
    filed = scenario(dossier()).dossiers[0].filed("circulaire-2012")
    message = TransmissionPrefecture(
        dossier=filed,
        family=filed.family,
        card_kind="salarie_en_mission",
        deposit_late=False,
        completed_late=False,
        biometric_dispense=True,
    )
    env = wrap(
        message,
        dossier_id="D-1",
        sender=Sender(agency="ofii"),
        sent_at=received,
        facts={"prefecture_production_days": 59},
    )
    assert agency.process(env.body()).status == "processed"
    mark = agency.register.due_outbox(datetime(2026, 4, 19, 9, tzinfo=PARIS))
    at_mark = [r["type"] for r in mark if r["type"] != "prefecture.veille.echeance"]  # the warning came before
    assert at_mark == ["prefecture.agent.titre_produit", "prefecture.echeance.production"]
    register.close()


def test_a_reused_message_id_with_another_content_is_journaled_and_refused_not_dropped(register, capsys):
    agency = ofii(register)
    env = filing(dossier())
    assert agency.process(env.body()).status == "processed"
    other = env.model_copy(update={"dossier_id": "D-2"})  # same message id, another content
    outcome = agency.process(other.body())
    assert (outcome.status, outcome.reason) == ("rejected", "message_id_reused")
    assert str(env.message_id) in outcome.error
    assert agency.process(other.body()).status == "rejected", "redelivered: refused again..."
    with agency.register.transaction() as tx:
        rows = tx.rows(
            "SELECT direction, dossier_id FROM journal WHERE message_id = ? ORDER BY seq", str(env.message_id)
        )
    assert rows == [{"direction": "in", "dossier_id": "D-1"}, {"direction": "in_reused_id", "dossier_id": "D-2"}], (
        "...and journaled once"
    )
    assert agency.register.state("D-2") is None
    assert agency.register.verify_journal().intact
    assert agency.process(env.body()).status == "duplicate", "the same content again is a plain duplicate"
