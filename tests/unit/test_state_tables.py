"""Each agency's state machine on its own: which message a dossier lets in at which step, from whom,
judged from the dossier as the agency holds it (services/<agency>/admission.py), and how far a
sender's date may stray from the receiver's clock (guichet/receipt.py). Pure functions, no register."""

from datetime import date, datetime, timedelta

import pytest

from guichet.envelope import Sender, wrap
from guichet.receipt import Absorbed, Freshness, Refused
from guichet.timeutil import PARIS
from schemas.actes import (
    DecisionConsul,
    InstructionTerminee,
    TitreProduit,
    TransmissionValidee,
)
from schemas.autorisation_travail import (
    ComplementAdresse,
    Criteria,
    DecisionAutorisationTravail,
    DepotAutorisationTravail,
)
from schemas.competences_talents import DecisionCompetencesTalents
from schemas.dossier import Address
from schemas.recours import DecisionRecours, RecoursGracieux
from schemas.remise import PresentationConvocation, RenvoiTitrePrefecture
from schemas.titre import (
    Card,
    ComplementsTitre,
    DepotTitre,
    Recepisse,
    TransmissionPrefecture,
    TransmissionTitre,
)
from schemas.veille import ALERTE, VEILLE
from schemas.visa import DecisionVisa
from services.bootstrap import compose
from services.consulat.state import ConsulatDossier
from services.ofii.state import OfiiDossier
from services.prefecture.state import PrefectureDossier
from services.smoe.state import SmoeDossier
from services.state_machine import content_key
from tests.conftest import DIRECTORY, dossier, scenario

NOW = datetime(2026, 3, 2, 9, tzinfo=PARIS)
FILED = scenario(dossier()).dossiers[0].filed("circulaire-2012")
SIRET = FILED.employer.siret
OK = Criteria(situation_emploi_ok=True, remuneration_ok=True, employer_compliant=True)
CARD = Card(
    kind="salarie_en_mission",
    number="T78",
    valid_from=date(2026, 3, 1),
    valid_until=date(2029, 3, 1),
    fingerprints=False,
)
GATES = {name: d.gate for name, d in compose(DIRECTORY).agencies.items()}


def judge(agency: str, message, state, sender: str | None = None, office: str | None = None):
    party = sender or message.SENDER
    office = office if office is not None else (SIRET if party == "employeur" else None)
    envelope = wrap(message, dossier_id="D-1", sender=Sender(agency=party, office=office), sent_at=NOW)
    return GATES[agency].judge(message, envelope, state)


def ofii(**fields) -> OfiiDossier:
    return OfiiDossier(**{"dossier_id": "D-1", "dossier": FILED, "route": "guichet_unique", **fields})


def reason(verdict) -> str | None:
    return verdict.reason if isinstance(verdict, Refused) else None


@pytest.mark.parametrize("agency", ["ofii", "smoe", "consulat", "prefecture"])
def test_every_message_an_agency_handles_has_its_step_in_the_table(agency):
    """Nothing reaches a handler that the state machine does not name: an unlisted message would be
    refused, so the table and the handlers are the same list."""
    definition = compose(DIRECTORY).agencies[agency]
    assert set(definition.handlers) == set(definition.gate.rules)


def test_II_B_a_visa_decision_is_let_in_only_while_the_dossier_is_with_the_consulate():
    """II.B: the consulate decides on the dossier the DT-OFII transmitted to it."""
    refusal = DecisionVisa(granted=False, reason="refus")
    assert judge("ofii", refusal, ofii(waiting_for="decision_visa")) is None
    never_sent = judge("ofii", refusal, ofii(waiting_for="transmission_smoe"))
    assert reason(never_sent) == "unexpected_step"
    assert "'D-1'" in never_sent.error and "awaiting transmission_smoe" in never_sent.error
    assert "once the dossier is with the consulate" in never_sent.error and "II.B" in never_sent.error
    handed_over = judge("ofii", refusal, ofii(outcome="titre_remis", card=CARD))
    assert reason(handed_over) == "unexpected_step" and "closed (titre_remis)" in handed_over.error


def test_I_E_an_smoe_decision_for_a_dossier_outside_the_single_window_is_refused():
    """I.E: outside the single window the SMOE instructs under ordinary law and answers no one here;
    II.A.1: its decision is awaited only once the DT-OFII forwarded the stamped request."""
    decision = DecisionAutorisationTravail(favorable=True, criteria=OK)
    outside = ofii(route="smoe_droit_commun", outcome="hors_guichet_unique")
    assert reason(judge("ofii", decision, outside)) == "unexpected_step"
    assert judge("ofii", decision, ofii(waiting_for="decision_autorisation_travail")) is None


def test_2021_note_after_a_refusal_only_the_recours_and_its_decision_go_on():
    """2021 note: a refused work authorisation may be contested by a recours gracieux; the closed
    dossier accepts that, and the SMOE's decision on it, and nothing else."""
    refused = ofii(outcome="autorisation_travail_refusee", waiting_for="recours_gracieux")
    assert judge("ofii", RecoursGracieux(arguments="x"), refused) is None
    assert reason(judge("ofii", DecisionVisa(granted=True), refused)) == "unexpected_step"
    assert reason(judge("ofii", RecoursGracieux(), ofii(waiting_for="decision_visa"))) == "unexpected_step"
    pending = ofii(outcome="autorisation_travail_refusee", waiting_for="decision_recours")
    assert judge("ofii", DecisionRecours(favorable=True, criteria=OK), pending) is None
    assert reason(judge("ofii", DecisionRecours(favorable=True, criteria=OK), refused)) == "unexpected_step"


def test_II_D_a_missed_convocation_lets_the_second_one_in_and_a_visit_done_none():
    """II.D: the worker who did not come is convoked a second time; once the visit is done, or the
    card handed over, no presentation changes anything."""
    second = ofii(waiting_for="presentation_convocation_2", second_convocation=True)
    assert judge("ofii", PresentationConvocation(number=2, present=True), second) is None
    assert reason(judge("ofii", PresentationConvocation(number=1, present=True), second)) == "unexpected_step"
    done = ofii(waiting_for="presentation_convocation_1", visit_done=True)
    assert reason(judge("ofii", PresentationConvocation(number=1, present=True), done)) == "unexpected_step"


def test_II_C_1_an_incomplete_card_dossier_takes_its_documents_and_a_deposit_comes_once():
    """II.C.1: the DT-OFII sends an incomplete dossier back for completion; the card dossier itself is
    deposited once the visa is granted."""
    incomplete = ofii(waiting_for="complements_titre")
    assert judge("ofii", ComplementsTitre(documents=["passeport"]), incomplete) is None
    assert reason(judge("ofii", DepotTitre(arrived_on=date(2026, 2, 1), documents=[]), incomplete)) == "unexpected_step"
    assert judge("ofii", DepotTitre(arrived_on=date(2026, 2, 1), documents=[]), ofii(waiting_for="depot_titre")) is None


def test_II_C_2_the_card_and_the_recepisse_come_from_the_prefecture_the_dossier_went_to():
    """II.C.2, R.311-10: the préfecture sends the card, or a récépissé, for a dossier it received; the
    card once, the récépissé once and only while the card is awaited."""
    card, recepisse = TransmissionTitre(produced_at=NOW, card=CARD), Recepisse(valid_until=date(2026, 6, 1))
    not_sent = ofii(waiting_for="depot_titre")
    assert reason(judge("ofii", card, not_sent)) == "unexpected_step"
    assert reason(judge("ofii", recepisse, not_sent)) == "unexpected_step"
    sent = ofii(waiting_for="titre")
    sent.record(TransmissionPrefecture, NOW)
    assert judge("ofii", card, sent) is None and judge("ofii", recepisse, sent) is None
    assert reason(judge("ofii", card, sent.model_copy(update={"card": CARD}))) == "unexpected_step"
    assert reason(judge("ofii", recepisse, sent.model_copy(update={"recepisse": True}))) == "unexpected_step"


def test_II_B_the_address_is_completed_before_the_dossier_goes_to_the_consulate():
    """II.B: the DT-OFII sees that the address abroad is complete before the transmission."""
    address = ComplementAdresse(
        address_abroad=Address(line="1 rue", city="X", country="IND", phone="+91", email="a@example.org")
    )
    assert judge("ofii", address, ofii(waiting_for="complement_adresse")) is None
    assert reason(judge("ofii", address, ofii(outcome="visa_refuse"))) == "unexpected_step"


def test_an_agent_stamps_only_the_transmission_the_dossier_awaits():
    """II.A.1, II.B: the agent's stamp answers the transmission the dossier waits for."""
    state = ofii(waiting_for="transmission_smoe")
    assert judge("ofii", TransmissionValidee(transmission="transmission_smoe"), state) is None
    assert reason(judge("ofii", TransmissionValidee(transmission="transmission_consulat"), state)) == "unexpected_step"


def test_II_E_1_an_agency_alerts_about_its_own_steps_and_its_reminders_always_come_in():
    """II.E.1: the référent hears of a deadline from the agency whose step it is (or from the relay
    about a late transmission); an agency's reminders to itself are always let in, the watch sees
    whether the task is still open."""
    alert = ALERTE["smoe"](
        agency="smoe", task="instruction", step="decision_autorisation_travail", kind="avertissement", deadline=NOW
    )
    closed = ofii(outcome="titre_remis")
    assert judge("ofii", alert, closed) is None
    forged = ALERTE["smoe"](
        agency="consulat", task="decision_visa", step="decision_visa", kind="depassement", deadline=NOW
    )
    assert reason(judge("ofii", forged, closed)) == "not_competent"
    late = ALERTE["ofii"](
        agency="consulat",
        task="transmission",
        step="transmission_consulat",
        kind="transmission_en_retard",
        deadline=NOW,
    )
    assert judge("ofii", late, closed) is None
    reminder = VEILLE["prefecture"](task="production", step="fabrication_titre", kind="depassement", deadline=NOW)
    assert judge("prefecture", reminder, PrefectureDossier(dossier_id="D-1", card=CARD)) is None


def test_an_act_for_a_dossier_the_agency_does_not_hold_is_unknown_unless_it_opens_it():
    """II.A.1: a dossier starts with the employer's deposit at the DT-OFII (at the SMOE, with the
    transmission of the DT-OFII); a decision or an agent's act for a dossier not held is unknown."""
    assert reason(judge("ofii", DecisionVisa(granted=False), None)) == "unknown_dossier"
    assert judge("ofii", DepotAutorisationTravail(dossier=FILED), None) is None
    assert reason(judge("smoe", InstructionTerminee(criteria=OK), None)) == "unknown_dossier"


def test_a_filing_sent_again_is_absorbed_and_another_filing_under_its_id_refused():
    """A filing for a dossier already held: the same content is the same filing, absorbed; another
    content (another worker) does not replace it."""
    deposit = DepotAutorisationTravail(dossier=FILED)
    held = ofii(waiting_for="transmission_smoe", opened_by=content_key(deposit))
    assert isinstance(judge("ofii", deposit, held), Absorbed)
    other = FILED.model_copy(update={"worker": FILED.worker.model_copy(update={"surname": "ROE"})})
    refusal = judge("ofii", DepotAutorisationTravail(dossier=other), held)
    assert reason(refusal) == "dossier_already_filed" and "'D-1'" in refusal.error
    # A dossier opened before filings were remembered by content: the dossier itself tells.
    assert isinstance(judge("ofii", deposit, ofii(waiting_for="transmission_smoe")), Absorbed)


def test_a_message_carrying_the_dossier_never_changes_the_worker_it_names():
    """II.A.2, R.315-7: the consul's decision on a 'compétences et talents' dossier deposited at the
    DT-OFII must be about that worker: identity facts never change by a later message."""
    ct = FILED.model_copy(update={"title": "competences_et_talents"})
    waiting = OfiiDossier(
        dossier_id="D-1", dossier=ct, route="guichet_unique", waiting_for="decision_competences_talents"
    )
    assert judge("ofii", DecisionCompetencesTalents(favorable=True, dossier=ct), waiting) is None
    someone_else = ct.model_copy(update={"worker": ct.worker.model_copy(update={"passport_number": "X9999999"})})
    refused = judge("ofii", DecisionCompetencesTalents(favorable=True, dossier=someone_else), waiting)
    assert reason(refused) == "identity_mismatch"


def test_an_employer_acts_for_its_own_dossiers_by_its_siret():
    """The employers' portal authenticates each employer by its SIRET, the envelope's office: an
    employer files for itself and acts on the dossiers it filed, no other (II.A.1, II.C.1)."""
    deposit = DepotAutorisationTravail(dossier=FILED)
    assert reason(judge("ofii", deposit, None, office="98765432100019")) == "not_competent"
    assert judge("ofii", deposit, None, office=SIRET) is None
    titre = DepotTitre(arrived_on=date(2026, 2, 1), documents=[])
    waiting = ofii(waiting_for="depot_titre")
    refused = judge("ofii", titre, waiting, office="98765432100019")
    assert reason(refused) == "not_competent" and SIRET in refused.error
    assert (
        reason(
            judge(
                "ofii",
                RecoursGracieux(),
                ofii(outcome="autorisation_travail_refusee", waiting_for="recours_gracieux"),
                office="",
            )
        )
        == "not_competent"
    )


def test_the_smoe_consulate_and_prefecture_answer_once_at_their_step():
    """II.A.1 (the SMOE's instruction), II.B (the consul's decision), II.C.2 and II.D (the card, made
    once, sent back once)."""
    assert (
        judge("smoe", InstructionTerminee(criteria=OK), SmoeDossier(dossier_id="D-1", route="guichet_unique")) is None
    )
    assert (
        reason(
            judge("smoe", InstructionTerminee(criteria=OK), SmoeDossier(dossier_id="D-1", route="smoe_droit_commun"))
        )
        == "unexpected_step"
    )
    assert (
        reason(judge("consulat", DecisionConsul(granted=True), ConsulatDossier(dossier_id="D-1", decided=True)))
        == "unexpected_step"
    )
    assert (
        reason(judge("prefecture", TitreProduit(), PrefectureDossier(dossier_id="D-1", card=CARD))) == "unexpected_step"
    )
    back = RenvoiTitrePrefecture(card_number="T78")
    assert reason(judge("prefecture", back, PrefectureDossier(dossier_id="D-1"))) == "unexpected_step"
    assert judge("prefecture", back, PrefectureDossier(dossier_id="D-1", card=CARD)) is None


def envelope_dated(sent_at: datetime):
    return wrap(DecisionVisa(granted=False), dossier_id="D-1", sender=Sender(agency="consulat"), sent_at=sent_at)


def test_a_message_dated_ahead_of_the_receiver_beyond_the_tolerance_is_refused():
    """Every step is dated by the receiver's clock, the time limits running "à compter de la
    réception du dossier" (II.B): a date the receiver has not reached yet is impossible, beyond the
    ordinary disagreement between two servers' clocks (five minutes)."""
    freshness = Freshness()
    assert freshness.judge(envelope_dated(NOW + timedelta(minutes=4)), NOW) is None
    ahead = freshness.judge(envelope_dated(NOW + timedelta(days=5 * 365)), NOW)
    assert ahead.reason == "dated_in_future" and "ahead of the receiver's clock" in ahead.error
    # On a clock compressed 400,000 times two hosts may differ by hours of legal time, not by years.
    assert freshness.judge(envelope_dated(NOW + timedelta(hours=12)), NOW, scale=400_000) is None
    assert (
        freshness.judge(envelope_dated(NOW + timedelta(days=5 * 365)), NOW, scale=400_000).reason == "dated_in_future"
    )


def test_a_message_that_waited_is_let_in_and_one_dated_years_back_is_not():
    """A transmission may wait in a queue for weeks while its consumer is down, or in the error queue
    until an operator replays it: let in, dated at its receipt (II.B) and the gap journaled; older
    than a year, beyond any time limit of the flow (six months at most, R.313-20-2 III), refused."""
    freshness = Freshness()
    weeks = envelope_dated(NOW - timedelta(weeks=6))
    assert freshness.judge(weeks, NOW) is None and freshness.skewed(weeks, NOW)
    assert not freshness.skewed(envelope_dated(NOW - timedelta(minutes=1)), NOW)
    assert freshness.judge(envelope_dated(NOW - timedelta(days=400)), NOW).reason == "stale"
    assert Freshness(window=timedelta(days=30)).judge(weeks, NOW).reason == "stale"
