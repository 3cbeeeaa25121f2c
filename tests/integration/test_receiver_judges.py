"""A receiver judges by its own register, its own clock and the law, whatever a sender claims: each
attack below is delivered over the bus (once in memory, once on RabbitMQ), refused or absorbed
before any handler, and leaves the DT-OFII's register as it was. The error queue says why."""

from datetime import date, datetime, timedelta

import pytest

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import Sender, wrap
from guichet.register import Register
from guichet.runner import Runner
from guichet.timeutil import PARIS
from guichet.topology import Topology
from guichet_simulation.harness import Simulation
from schemas.actes import TransmissionValidee
from schemas.autorisation_travail import Criteria, DecisionAutorisationTravail
from schemas.titre import DepotTitre
from schemas.visa import DecisionVisa
from services.bootstrap import compose
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, delete_namespace, dossier, scenario

OFII = compose(DIRECTORY).agencies["ofii"]
START = datetime(2026, 1, 5, 9, tzinfo=PARIS)
OK = Criteria(situation_emploi_ok=True, remuneration_ok=True, employer_compliant=True)
SIRET = dossier()["employer"]["siret"]
VISA = DecisionVisa(
    granted=True,
    visa="visa de long séjour « salarié en mission »",
    valid_from=date(2026, 2, 1),
    valid_until=date(2027, 2, 1),
)


class DtOfii:
    """The DT-OFII's service on a bus, its register in a folder, on a clock the test moves."""

    def __init__(self, broker: str, namespace: str, register_path, now: datetime):
        self.bus = Bus(broker, Topology(PARTIES, namespace=namespace))
        self.bus.declare()
        self.clock = VirtualClock(now)
        self.register = Register(str(register_path), "ofii")
        self.runner = Runner(Agency(OFII, self.register, self.clock), self.bus)

    def act(self, envelope) -> None:
        """What the dossier went through before the attack, handled as it came."""
        assert self.runner.agency.process(envelope.body()).status == "processed"

    def deliver(self, envelope) -> None:
        self.bus.publish_envelope(envelope)
        assert self.runner.poll_once(), "the delivery reached the DT-OFII"
        assert not self.runner.poll_once()

    def filed(self) -> list[tuple[str, str]]:
        """What went to the error queue: each message's reason and error."""
        found, queue = [], self.bus.topology.queue_name("erreurs")
        while (message := self.bus.get(queue)) is not None:
            found.append((message.headers["x-guichet-error-reason"], message.headers["x-guichet-error-message"]))
            message.ack()
        return found

    def snapshot(self, dossier_id: str = "D-1") -> tuple:
        """Everything a delivery could change about the dossier: its state, its outbox, its tasks."""
        with self.register.transaction() as tx:
            outbox = tx.rows("SELECT message_id, type, due_at FROM outbox WHERE dossier_id = ? ORDER BY id", dossier_id)
            tasks = tx.rows(
                "SELECT task, opened_at, closed_at FROM tasks WHERE dossier_id = ? ORDER BY task", dossier_id
            )
        return self.register.state(dossier_id), outbox, tasks

    def journal(self, dossier_id: str = "D-1") -> list[str]:
        return [r["direction"] for r in self.register.journal_of(dossier_id)]

    def close(self, broker: str, namespace: str) -> None:
        self.register.close()
        delete_namespace(broker, namespace)
        self.bus.close()


@pytest.fixture
def open_ofii(broker, namespace):
    opened = []

    def open_(register_path, now=START) -> DtOfii:
        opened.append(DtOfii(broker, namespace, register_path, now))
        return opened[-1]

    yield open_
    for agency in opened:
        agency.close(broker, namespace)


def envelope(message, at: datetime, *, sender: str | None = None, office: str | None = None, deadline=None):
    party = sender or message.SENDER
    office = office or (SIRET if party == "employeur" else None)
    return wrap(message, dossier_id="D-1", sender=Sender(agency=party, office=office), sent_at=at, deadline=deadline)


def deposit(**changes):
    return filing("D-1", scenario(dossier(**changes)).dossiers[0], "circulaire-2012", START, DIRECTORY)


def forwarded_to_the_smoe(ofii: DtOfii) -> None:
    """II.A.1: filed on 5 January, stamped and forwarded to the SMOE at once."""
    ofii.act(deposit())
    ofii.act(envelope(TransmissionValidee(transmission="transmission_smoe"), START))


def with_the_consulate(ofii: DtOfii) -> datetime:
    """II.A.1: the SMOE decided on 8 January, the dossier went to the consulate that day."""
    forwarded_to_the_smoe(ofii)
    decided = START + timedelta(days=3)
    ofii.clock.advance_to(decided)
    ofii.act(envelope(DecisionAutorisationTravail(favorable=True, criteria=OK), decided))
    ofii.act(envelope(TransmissionValidee(transmission="transmission_consulat"), decided))
    return decided


def completed(tmp_path, **changes) -> tuple:
    """A whole dossier through the four agencies, its registers kept: the DT-OFII's one to attack."""
    result = Simulation(scenario(dossier(**changes)), data_dir=tmp_path / "sim").run()
    assert result["errors"] == 0
    return tmp_path / "sim" / "ofii.sqlite3", datetime(2026, 12, 1, 9, tzinfo=PARIS)


def test_II_B_a_visa_refusal_for_a_dossier_the_consulate_never_received_changes_nothing(open_ofii, tmp_path):
    """II.B: the consulate decides on the dossier the DT-OFII transmitted to it; this one is still
    waiting for its stamp to the SMOE (II.A.1)."""
    ofii = open_ofii(tmp_path / "ofii.sqlite3")
    ofii.act(deposit())
    before = ofii.snapshot()
    ofii.deliver(envelope(DecisionVisa(granted=False, reason="refus"), START))
    assert ofii.snapshot() == before
    [(reason, error)] = ofii.filed()
    assert reason == "unexpected_step"
    assert "'D-1'" in error and "awaiting transmission_smoe" in error and "with the consulate" in error
    assert ofii.journal()[-1] == "in_refused"


def test_II_D_a_visa_refusal_after_the_card_was_handed_over_changes_nothing(open_ofii, tmp_path):
    """II.D: the card handed over at the medical visit closes the dossier; no visa decision reopens it."""
    register, after = completed(tmp_path)
    ofii = open_ofii(register, after)
    before = ofii.snapshot()
    assert before[0]["outcome"] == "titre_remis"
    ofii.deliver(envelope(DecisionVisa(granted=False, reason="refus"), after))
    assert ofii.snapshot() == before
    [(reason, error)] = ofii.filed()
    assert reason == "unexpected_step" and "closed (titre_remis)" in error


def test_I_E_an_smoe_decision_for_a_dossier_outside_the_single_window_changes_nothing(open_ofii, tmp_path):
    """I.E: a job outside the eight départements goes to the SMOE under ordinary law; the single window
    awaits no decision on it, and none reopens it."""
    register, after = completed(tmp_path, employment_department="13")
    ofii = open_ofii(register, after)
    before = ofii.snapshot()
    assert before[0]["outcome"] == "hors_guichet_unique"
    ofii.deliver(envelope(DecisionAutorisationTravail(favorable=True, criteria=OK), after))
    assert ofii.snapshot() == before
    assert [reason for reason, _ in ofii.filed()] == ["unexpected_step"]


def test_II_A_1_a_late_smoe_decision_dated_before_its_deadline_is_recorded_late(open_ofii, tmp_path):
    """II.A.1: the SMOE decides within 10 days of receiving the dossier. A decision that arrives on day
    12 is late whatever its sender wrote: dated the day before the deadline, with a deadline of its
    own a month off, it is recorded at its receipt against the deadline the DT-OFII counted from its
    own transmission; the référent was right to be alerted."""
    ofii = open_ofii(tmp_path / "ofii.sqlite3")
    forwarded_to_the_smoe(ofii)
    arrived = START + timedelta(days=12)
    ofii.clock.advance_to(arrived)
    backdated = envelope(
        DecisionAutorisationTravail(favorable=True, criteria=OK),
        START + timedelta(days=9),
        deadline=START + timedelta(days=40),
    )
    ofii.deliver(backdated)
    assert ofii.filed() == []
    step = next(s for s in ofii.register.state("D-1")["steps"] if s["step"] == "decision_autorisation_travail")
    assert datetime.fromisoformat(step["at"]) == arrived
    assert datetime.fromisoformat(step["deadline"]) == START + timedelta(days=10)
    assert step["late"] is True
    assert ofii.journal()[-2:] == ["in", "in_clock_skew"], "both dates kept: the sender's and the receipt's"


def test_II_B_a_consulate_setting_its_own_deadline_does_not_hide_its_breach(open_ofii, tmp_path):
    """II.B: the visa within 15 days of the consulate's receipt of the dossier, which the DT-OFII
    transmitted on 8 January. A decision of 30 January carrying a deadline of 15 February is late."""
    ofii = open_ofii(tmp_path / "ofii.sqlite3")
    transmitted = with_the_consulate(ofii)
    decided = transmitted + timedelta(days=22)
    ofii.clock.advance_to(decided)
    ofii.deliver(envelope(VISA, decided, deadline=decided + timedelta(days=16)))
    step = next(s for s in ofii.register.state("D-1")["steps"] if s["step"] == "decision_visa")
    assert datetime.fromisoformat(step["deadline"]) == transmitted + timedelta(days=15) and step["late"] is True


def test_a_message_dated_five_years_ahead_is_refused_and_changes_nothing(open_ofii, tmp_path):
    """Every step is dated by the receiver's clock; a date it has not reached is impossible."""
    ofii = open_ofii(tmp_path / "ofii.sqlite3")
    forwarded_to_the_smoe(ofii)
    before = ofii.snapshot()
    ofii.deliver(envelope(DecisionAutorisationTravail(favorable=True, criteria=OK), START + timedelta(days=5 * 365)))
    assert ofii.snapshot() == before
    [(reason, error)] = ofii.filed()
    assert reason == "dated_in_future" and "ahead of the receiver's clock" in error


def test_a_second_filing_under_the_same_dossier_id_with_another_worker_is_refused(open_ofii, tmp_path):
    """II.A.1: the employer files a dossier once; a filing under its id naming another worker,
    validly sent by the same employer, does not replace the worker the DT-OFII holds."""
    ofii = open_ofii(tmp_path / "ofii.sqlite3")
    ofii.act(deposit())
    before = ofii.snapshot()
    ofii.deliver(deposit(worker={"surname": "ROE", "given_names": "Richard"}))
    assert ofii.snapshot() == before
    assert before[0]["dossier"]["worker"]["surname"] == "DOE"
    [(reason, error)] = ofii.filed()
    assert reason == "dossier_already_filed" and "'D-1'" in error


def test_the_same_filing_sent_again_under_a_new_message_id_is_absorbed(open_ofii, tmp_path):
    """II.A.1: the same deposit sent twice (a portal's retry, a new message id) is one deposit: one
    step, the agent's stamp asked for once (its act scheduled once, its tasks opened once), nothing
    in the error queue."""
    ofii = open_ofii(tmp_path / "ofii.sqlite3")
    first = deposit()
    ofii.act(first)
    before = ofii.snapshot()
    again = deposit()
    assert again.message_id != first.message_id and again.payload == first.payload
    ofii.deliver(again)
    assert ofii.snapshot() == before
    assert [s["step"] for s in before[0]["steps"]] == ["depot_autorisation_travail"]
    assert [row["type"] for row in before[1]].count("ofii.agent.transmission_validee") == 1
    assert ofii.filed() == []
    assert ofii.journal()[-1] == "in_absorbed"


def test_an_employer_acts_only_on_the_dossiers_it_filed(open_ofii, tmp_path):
    """II.A.1, II.C.1: each employer signs and sends as itself, by SIRET (the envelope's office); the
    card dossier of another employer's worker, or a filing in another employer's name, is refused."""
    ofii = open_ofii(tmp_path / "ofii.sqlite3")
    ofii.act(deposit())
    before = ofii.snapshot()
    ofii.deliver(envelope(DepotTitre(arrived_on=START.date(), documents=["passeport"]), START, office="98765432100019"))
    other = deposit()
    ofii.deliver(
        other.model_copy(update={"dossier_id": "D-2", "sender": Sender(agency="employeur", office="98765432100019")})
    )
    assert ofii.snapshot() == before and ofii.register.state("D-2") is None
    filed = ofii.filed()
    assert [reason for reason, _ in filed] == ["not_competent", "not_competent"]
    assert SIRET in filed[0][1]


def test_a_refused_message_is_let_in_when_replayed_at_its_step(open_ofii, tmp_path):
    """A refusal keeps nothing of the message but its journal record: once the dossier is at the
    step it answers (here the visa decision, II.B), the same message is let in."""
    ofii = open_ofii(tmp_path / "ofii.sqlite3")
    forwarded_to_the_smoe(ofii)
    early = envelope(VISA, START)
    ofii.deliver(early)
    assert [reason for reason, _ in ofii.filed()] == ["unexpected_step"]
    decided = START + timedelta(days=3)
    ofii.clock.advance_to(decided)
    ofii.act(envelope(DecisionAutorisationTravail(favorable=True, criteria=OK), decided))
    ofii.act(envelope(TransmissionValidee(transmission="transmission_consulat"), decided))
    ofii.deliver(early)
    assert ofii.filed() == [] and ofii.register.state("D-1")["waiting_for"] == "depot_titre"
    journal = [r for r in ofii.register.journal_of("D-1") if r["message_id"] == str(early.message_id)]
    assert [r["direction"] for r in journal] == ["in_refused", "in", "in_clock_skew"]
    assert ofii.register.verify_journal().intact
