"""The law as it stands, on whole dossiers: the 2021 online filing with the platforms, the
'compétences et talents' application at the consulate (circulaire II.A.2) and the carte bleue
deadlines (CESEDA R.313-19-1, R.313-20-2 III); once in memory and once on RabbitMQ.

Each test names the text it checks."""

import json
from datetime import datetime

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import Sender, wrap
from guichet.register import Register
from guichet.runner import Runner
from guichet.timeutil import PARIS
from guichet.topology import Topology
from schemas.autorisation_travail import DepotAutorisationTravail
from services.bootstrap import compose
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, dossier, scenario, wait_until
from tests.integration.test_flow import run, steps

OFII, SMOE = compose(DIRECTORY).agencies["ofii"], compose(DIRECTORY).agencies["smoe"]

LYON = {"employment_department": "69", "residence_department": "69"}
START = datetime(2026, 1, 5, 9, tzinfo=PARIS)


def moves(d):
    return [(s["step"], s["from"], s["to"]) for s in d["steps"]]


def test_2021_note_the_employer_files_online_with_the_platform_nothing_at_the_dt_ofii(broker):
    d = run(broker, dossier(**LYON, title="carte_bleue_europeenne"), regime="plateformes-2021")[0]["D-1"]
    assert d["smoe"] == "plateforme Clermont-Ferrand" and d["outcome"] == "titre_remis"
    assert moves(d)[:6] == [
        ("depot_autorisation_travail", "employeur", "smoe"),
        ("accuse_depot", "smoe", "employeur"),
        ("decision_autorisation_travail", "smoe", "ofii"),
        ("autorisation_travail_securisee", "smoe", "employeur"),
        ("autorisation_travail_securisee", "smoe", "travailleur"),
        ("transmission_consulat", "ofii", "consulat"),
    ]
    assert "transmission_smoe" not in steps(d) and not any(to == "ofii" for _, frm, to in moves(d)[:2])
    assert d["deadline_breaches"] == []
    # CESEDA 2021, L.313-20 2° and R.313-47: the card the texts of 2021 give is a passeport talent.
    assert d["titre"]["mention"] == "passeport talent-carte bleue européenne"


def test_2021_note_a_refusal_sends_no_secured_authorisation(broker):
    d = run(broker, dossier(**LYON, facts={"remuneration_ok": False}), regime="plateformes-2021")[0]["D-1"]
    assert d["outcome"] == "autorisation_travail_refusee" and "autorisation_travail_securisee" not in steps(d)
    assert steps(d)[:3] == ["depot_autorisation_travail", "accuse_depot", "decision_autorisation_travail"]


def test_II_A_1_a_late_platform_is_a_breach_the_referent_hears_of(broker):
    d = run(broker, dossier(**LYON, facts={"smoe_instruction_days": 12}), regime="plateformes-2021")[0]["D-1"]
    assert d["deadline_breaches"] == ["decision_autorisation_travail"] and d["outcome"] == "titre_remis"
    assert {(a["agency"], a["kind"]) for a in d["deadline_alerts"]} >= {
        ("smoe", "avertissement"),
        ("smoe", "depassement"),
    }


def test_2021_note_seasonal_job_outside_the_single_window_goes_to_avignon(broker):
    seasonal = dossier(title="autre", employment_department="13", contract={"kind": "saisonnier", "months": 6})
    d = run(broker, seasonal, regime="plateformes-2021")[0]["D-1"]
    assert (d["route"], d["outcome"], d["smoe"]) == ("smoe_droit_commun", "hors_guichet_unique", "plateforme Avignon")
    assert moves(d) == [("depot_autorisation_travail", "employeur", "smoe"), ("accuse_depot", "smoe", "employeur")]


def test_II_A_2_under_2021_too_compétences_et_talents_is_applied_for_at_the_consulate(broker):
    d = run(broker, dossier(title="competences_et_talents", employment_department="75"), regime="plateformes-2021")[0][
        "D-1"
    ]
    assert d["outcome"] == "titre_remis" and d["smoe"] is None
    assert moves(d)[0] == ("demande_competences_talents", "travailleur", "consulat")
    assert "depot_autorisation_travail" not in steps(d) and "transmission_consulat" not in steps(d)


def test_R_313_19_1_carte_bleue_decided_after_90_days_is_a_breach_watched_while_pending(broker):
    late = dossier(id="LATE", title="carte_bleue_europeenne", facts={"prefecture_production_days": 100})
    on_time = dossier(id="ON-TIME", title="carte_bleue_europeenne", facts={"prefecture_production_days": 80})
    salarie = dossier(id="SEM", facts={"prefecture_production_days": 100})
    out = run(broker, late, on_time, salarie)[0]
    assert out["LATE"]["deadline_breaches"] == ["fabrication_titre"] and out["LATE"]["outcome"] == "titre_remis"
    fabrication = next(s for s in out["LATE"]["steps"] if s["step"] == "fabrication_titre")
    deposit = next(s for s in out["LATE"]["steps"] if s["step"] == "depot_titre")
    limit, deposited = (datetime.fromisoformat(fabrication["deadline"]), datetime.fromisoformat(deposit["at"]))
    assert ((limit.date() - deposited.date()).days, limit.time()) == (90, deposited.time())  # calendar days, Paris
    kinds = [
        a["kind"]
        for a in out["LATE"]["deadline_alerts"]
        if (a["agency"], a["step"], a["deadline"]) == ("prefecture", "fabrication_titre", fabrication["deadline"])
    ]
    assert kinds == ["avertissement", "depassement"]
    assert out["ON-TIME"]["deadline_breaches"] == []
    assert out["SEM"]["deadline_breaches"] == [], "the 90 days bind the carte bleue alone"


def test_R_313_20_2_III_the_spouse_s_card_within_six_months_is_watched(broker):
    family = {"spouse": True, "minor_children": 1}
    slow = dossier(id="SLOW", title="carte_bleue_europeenne", family=family, facts={"prefecture_production_days": 200})
    quick = dossier(id="QUICK", title="carte_bleue_europeenne", family=family)
    out = run(broker, slow, quick)[0]
    spouse_alerts = [a["kind"] for a in out["SLOW"]["deadline_alerts"] if a["step"] == "titre_famille"]
    assert spouse_alerts == ["avertissement", "depassement"]
    assert not [a for a in out["QUICK"]["deadline_alerts"] if a["step"] == "titre_famille"]


def test_2021_note_the_platform_answers_on_the_outside_parties_queue(broker, namespace, tmp_path):
    """The online request comes from the employers' portal; the confirmation and the secured
    authorisation go to the queue that portal reads, not through the DT-OFII."""
    topology = Topology(PARTIES, namespace=namespace)
    bus = Bus(broker, topology)
    bus.declare()
    clock = VirtualClock(START)
    platform = Runner(Agency(SMOE, Register(str(tmp_path / "smoe.sqlite3"), "smoe"), clock), bus)
    usagers = topology.queue_name("usagers")

    def drain(expected: int) -> list[str]:
        got = []

        def take():
            message = bus.get(usagers)
            if message is not None:
                message.ack()
                got.append(json.loads(message.body)["type"])
            return len(got) >= expected

        wait_until(take, 10, f"{expected} message(s) on {usagers}")
        return got

    try:
        filed = scenario(dossier(id="P-1", **LYON), regime="plateformes-2021").dossiers[0]
        envelope = filing("P-1", filed, "plateformes-2021", START, DIRECTORY)
        assert (envelope.routing_key, envelope.sender.agency) == (
            "smoe.employeur.demande_autorisation_travail_en_ligne",
            "employeur",
        )
        bus.publish(envelope.body().decode(), envelope.routing_key, envelope.headers(), str(envelope.message_id))
        wait_until(platform.poll_once, 10, "the platform to take the online request")
        platform.flush_outbox(clock.now())
        assert drain(1) == ["smoe.accuse_depot"]
        clock.advance_to(platform.agency.register.next_due())  # the agent's instruction, 7 days on
        platform.flush_outbox(clock.now())
        wait_until(platform.poll_once, 10, "the instruction")
        platform.flush_outbox(clock.now())
        assert sorted(drain(2)) == [
            "smoe.autorisation_travail_securisee.employeur",
            "smoe.autorisation_travail_securisee.travailleur",
        ]
    finally:
        platform.agency.register.close()
        bus.delete_topology()
        bus.close()


def test_II_A_2_an_employer_deposit_for_competences_et_talents_is_not_forwarded_to_the_consulate(
    broker, namespace, tmp_path
):
    """A deposit at the DT-OFII all the same: nothing goes to the consulate, where the worker
    applies; the DT-OFII waits for the consul's decision."""
    topology = Topology(PARTIES, namespace=namespace)
    bus = Bus(broker, topology)
    bus.declare()
    clock = VirtualClock(START)
    dt_ofii = Runner(Agency(OFII, Register(str(tmp_path / "ofii.sqlite3"), "ofii"), clock), bus)
    try:
        filed = scenario(dossier(id="CT", title="competences_et_talents")).dossiers[0].filed("circulaire-2012")
        envelope = wrap(
            DepotAutorisationTravail(dossier=filed),
            dossier_id="CT",
            sender=Sender(agency="employeur", office=filed.employer.siret),
            sent_at=START,
        )
        bus.publish(envelope.body().decode(), envelope.routing_key, envelope.headers(), str(envelope.message_id))
        wait_until(dt_ofii.poll_once, 10, "the DT-OFII to take the deposit")
        state = dt_ofii.agency.register.state("CT")
        assert state["waiting_for"] == "decision_competences_talents"
        assert [s["step"] for s in state["steps"]] == ["depot_autorisation_travail"]
        assert dt_ofii.agency.register.next_due() is None, "no agent is asked to stamp anything for the consulate"
    finally:
        dt_ofii.agency.register.close()
        bus.delete_topology()
        bus.close()
