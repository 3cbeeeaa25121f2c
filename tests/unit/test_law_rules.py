"""The law as it stands, rules alone: the 2021 platforms and online filing (transfert SMOE 2021,
autorisation de travail en ligne 2021), the 'compétences et talents' application (circulaire II.A.2,
CESEDA R.315-7) and the carte bleue deadlines (CESEDA R.313-19-1, R.313-20-2 III)."""

import json
import re
from datetime import datetime

import pytest

from guichet.envelope import Sender, decode, wrap
from guichet.timeutil import PARIS
from guichet_cli.main import main
from guichet_operations import broker_admin
from schemas.autorisation_travail import Criteria, DecisionAutorisationTravail
from schemas.catalogue import message_registry
from schemas.competences_talents import DecisionCompetencesTalents
from schemas.plateforme import (
    AccuseDepot,
    AutorisationTravailSecuriseeEmployeur,
    AutorisationTravailSecuriseeTravailleur,
    DemandeAutorisationTravailEnLigne,
    InformationOfii,
)
from services import single_window
from services.directory import Directory, UnconfiguredPlatform
from services.intake import first_message
from services.ofii import rules as ofii
from services.scenario import ScenarioError, parse_scenario
from services.smoe import rules as smoe
from tests.conftest import DIRECTORY, dossier
from tests.unit.test_ofii_rules import filed

MESSAGES = message_registry()

DEPOSIT = datetime(2026, 2, 17, 9, tzinfo=PARIS)
NEW_MESSAGES = (
    DemandeAutorisationTravailEnLigne,
    AccuseDepot,
    InformationOfii,
    AutorisationTravailSecuriseeEmployeur,
    AutorisationTravailSecuriseeTravailleur,
)


def test_2021_note_one_national_seasonal_platform_and_five_interregional_only_clermont_named():
    platforms = DIRECTORY.data["platforms_2021"]
    assert platforms["seasonal"] == "plateforme Avignon"
    assert len(platforms["interregional"]) == 5
    named = [p for p in platforms["interregional"] if p["name"]]
    assert named == [{"name": "plateforme Clermont-Ferrand", "regions": ["Auvergne-Rhône-Alpes"]}]
    assert all(p["regions"] == [] for p in platforms["interregional"] if not p["name"])


def test_2021_note_a_departement_of_an_unconfigured_platform_is_an_error_naming_it():
    with pytest.raises(UnconfiguredPlatform, match="75.*Île-de-France"):
        smoe.competent_platform(filed(regime="plateformes-2021", employment_department="75"), DIRECTORY)
    seasonal = filed(
        regime="plateformes-2021",
        employment_department="75",
        contract={"kind": "saisonnier", "months": 6, "monthly_gross_salary_eur": 1900},
    )
    assert smoe.competent_platform(seasonal, DIRECTORY) == "plateforme Avignon"


def test_2021_note_an_operator_names_a_platform_and_its_regions(tmp_path):
    data = json.loads(json.dumps(DIRECTORY.data))
    data["platforms_2021"]["interregional"][1] = {"name": "plateforme Paris", "regions": ["Île-de-France"]}
    path = tmp_path / "annuaire.json"
    path.write_text(json.dumps(data))
    operators = Directory.from_file(path)
    assert (
        smoe.competent_platform(filed(regime="plateformes-2021", employment_department="92"), operators)
        == "plateforme Paris"
    )


def test_2021_note_a_scenario_falling_to_an_unconfigured_platform_names_the_field():
    raw = {
        "regime": "plateformes-2021",
        "dossiers": [dossier(id="A", employment_department="69"), dossier(id="B", employment_department="92")],
    }
    with pytest.raises(ScenarioError, match=r"dossiers\.1\.employment_department: no 2021 platform"):
        parse_scenario(raw, DIRECTORY)
    # Under the circular of 2012 the SMOE of the département decides; 'compétences et talents'
    # needs no authorisation at all: neither depends on a platform.
    parse_scenario({**raw, "regime": "circulaire-2012"}, DIRECTORY)
    parse_scenario(
        {**raw, "dossiers": [dossier(id="C", title="competences_et_talents", employment_department="92")]}, DIRECTORY
    )


def test_2021_note_the_command_exits_2_naming_the_field(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"regime": "plateformes-2021", "dossiers": [dossier(employment_department="31")]}))
    assert main(["simulate", "--scenario", str(path), "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dossiers.0.employment_department" in err[0]


def test_2021_note_every_work_authorisation_is_filed_online_with_the_platform():
    assert (
        type(first_message(filed(regime="plateformes-2021", employment_department="69"), DIRECTORY))
        is DemandeAutorisationTravailEnLigne
    )
    assert (
        type(first_message(filed(regime="plateformes-2021", title="autre", employment_department="13"), DIRECTORY))
        is DemandeAutorisationTravailEnLigne
    )
    assert first_message(filed(employment_department="69"), DIRECTORY).TYPE == "employeur.depot_autorisation_travail"
    assert (
        DemandeAutorisationTravailEnLigne.RECIPIENT == "smoe"
        and DemandeAutorisationTravailEnLigne.STEP == "depot_autorisation_travail"
    )


@pytest.mark.parametrize("regime", ["circulaire-2012", "plateformes-2021"])
def test_II_A_2_competences_et_talents_is_applied_for_by_the_worker_at_the_consulate(regime):
    message = first_message(filed(regime=regime, title="competences_et_talents", employment_department="69"), DIRECTORY)
    assert (message.TYPE, message.SENDER, message.RECIPIENT, message.STEP) == (
        "travailleur.demande_competences_talents",
        "travailleur",
        "consulat",
        "demande_competences_talents",
    )
    # R.315-4: at the consulate outside the eight départements too; R.315-5: at the préfecture once in France.
    outside = filed(regime=regime, title="competences_et_talents", employment_department="13")
    assert single_window.applied_for_at_the_consulate(outside, DIRECTORY)
    in_france = filed(regime=regime, title="competences_et_talents", already_in_france=True)
    assert not single_window.applied_for_at_the_consulate(in_france, DIRECTORY)


def test_R_313_19_1_the_prefet_decides_on_a_carte_bleue_within_90_days_of_the_deposit():
    assert ofii.carte_bleue_decision_deadline("carte_bleue_europeenne", DEPOSIT) == datetime(
        2026, 5, 18, 9, tzinfo=PARIS
    )  # calendar days, across the change to summer time
    assert ofii.carte_bleue_decision_deadline("salarie_en_mission", DEPOSIT) is None


def test_R_313_20_2_III_the_spouse_of_a_carte_bleue_holder_within_six_months():
    assert ofii.carte_bleue_family_deadline("carte_bleue_europeenne", True, DEPOSIT) == datetime(
        2026, 8, 17, 9, tzinfo=PARIS
    )
    assert ofii.carte_bleue_family_deadline("carte_bleue_europeenne", False, DEPOSIT) is None
    assert ofii.carte_bleue_family_deadline("salarie_en_mission", True, DEPOSIT) is None


def test_2021_note_the_secured_authorisation_goes_to_the_employer_and_to_the_worker():
    assert (AutorisationTravailSecuriseeEmployeur.RECIPIENT, AutorisationTravailSecuriseeTravailleur.RECIPIENT) == (
        "employeur",
        "travailleur",
    )
    assert AccuseDepot.RECIPIENT == "employeur"
    assert (
        smoe.authorisation_number("69", "P-1")
        == smoe.authorisation_number("69", "P-1")
        != smoe.authorisation_number("69", "P-2")
    )


def test_new_messages_describe_every_field_with_examples():
    for cls in NEW_MESSAGES:
        assert cls.TYPE in MESSAGES
        for name, field in cls.model_fields.items():
            assert field.description and field.examples, f"{cls.TYPE}.{name}"


def test_version_1_decisions_are_upcast_to_version_2():
    sender = Sender(agency="smoe")
    criteria = Criteria(situation_emploi_ok=True, remuneration_ok=True, employer_compliant=True)
    envelope = wrap(
        DecisionAutorisationTravail(favorable=True, criteria=criteria), dossier_id="D", sender=sender, sent_at=DEPOSIT
    )
    raw = json.loads(envelope.body())
    raw["version"] = 1
    del raw["payload"]["secured_authorisation_sent_to"]
    assert decode(json.dumps(raw).encode(), messages=MESSAGES)[1].secured_authorisation_sent_to == []
    consul = wrap(
        DecisionCompetencesTalents(favorable=True), dossier_id="D", sender=Sender(agency="consulat"), sent_at=DEPOSIT
    )
    raw = json.loads(consul.body())
    raw["version"] = 1
    del raw["payload"]["dossier"], raw["payload"]["applied_at"]
    assert decode(json.dumps(raw).encode(), messages=MESSAGES)[1].dossier is None


def test_2021_note_the_employers_portal_files_online_and_the_worker_s_application_only():
    portal = broker_admin.desired_state("v", "ns", {}).topic_permissions["employeur"]["ns.flux"]
    allowed = [
        "smoe.employeur.demande_autorisation_travail_en_ligne",
        "ofii.employeur.depot_autorisation_travail",
        "consulat.travailleur.demande_competences_talents",
    ]
    refused = [
        "ofii.travailleur.presentation_convocation",
        "employeur.smoe.accuse_depot",
        "smoe.ofii.transmission_smoe",
    ]
    assert all(re.match(portal["write"], key) for key in allowed)
    assert not any(re.match(portal["write"], key) for key in refused)
    assert re.match(portal["read"], "employeur.smoe.autorisation_travail_securisee.employeur")
    assert re.match(portal["read"], "travailleur.smoe.autorisation_travail_securisee.travailleur")
