"""The SMOE's, the consulate's and the préfecture's rules alone."""

from datetime import date, datetime

import pytest

from guichet.timeutil import PARIS
from schemas.autorisation_travail import Criteria
from schemas.dossier import Contract, Family
from services.consulat import rules as consulat
from services.ofii import rules as ofii
from services.prefecture import rules as prefecture
from services.smoe import rules as smoe
from tests.unit.test_ofii_rules import filed


def test_II_A_1_smoe_decides_within_ten_days():
    assert smoe.instruction_deadline(datetime(2026, 1, 7, 9, tzinfo=PARIS)) == datetime(2026, 1, 17, 9, tzinfo=PARIS)


def test_2021_three_criteria_each_failed_one_is_a_reason():
    assert smoe.decide(Criteria(situation_emploi_ok=True, remuneration_ok=True, employer_compliant=True)) == (True, [])
    favorable, reasons = smoe.decide(
        Criteria(situation_emploi_ok=True, remuneration_ok=False, employer_compliant=False)
    )
    assert not favorable and len(reasons) == 2 and any("rémunération" in r for r in reasons)


def test_II_B_visa_within_fifteen_days_and_compétences_et_talents_mention():
    assert consulat.visa_deadline(datetime(2026, 1, 15, 9, tzinfo=PARIS)) == datetime(2026, 1, 30, 9, tzinfo=PARIS)
    assert consulat.visa_mention("competences_et_talents") == "CESEDA L.315-1"


def test_II_E_3_agdref_observation_text():
    card = prefecture.produce_card("salarie_en_mission", "7812345678", date(2026, 3, 14), 36, dispense=True)
    assert card.agdref_observation == (
        "Titre de séjour n° 7812345678 valable du 14/03/2026 au 14/03/2029 produit sans empreinte"
    )
    with_prints = prefecture.produce_card("salarie_en_mission", "7812345678", date(2026, 3, 14), 36, dispense=False)
    assert with_prints.fingerprints and with_prints.agdref_observation is None


def test_card_validity_carte_bleue_contract_plus_three_months_within_three_years():
    assert (
        prefecture.card_months("carte_bleue_europeenne", Contract(kind="cdd", months=24, monthly_gross_salary_eur=1))
        == 27
    )
    assert (
        prefecture.card_months("carte_bleue_europeenne", Contract(kind="cdd", months=40, monthly_gross_salary_eur=1))
        == 36
    )
    assert prefecture.card_months("salarie_en_mission", Contract(kind="cdi", monthly_gross_salary_eur=1)) == 36


def test_II_E_2_spouse_card_of_identical_validity_and_dcem_per_prefecture_policy():
    worker = prefecture.produce_card("salarie_en_mission", "7800000001", date(2026, 3, 14), 36, dispense=True)
    cdi = Contract(kind="cdi", monthly_gross_salary_eur=1)
    docs = prefecture.family_documents(Family(spouse=True, minor_children=2), worker, "78", "D-1", True, cdi)
    spouse = docs[0]
    assert spouse.titre == "vie_privee_et_familiale"
    assert (spouse.card.valid_from, spouse.card.valid_until) == (worker.valid_from, worker.valid_until)
    assert [d.titre for d in docs[1:]] == ["dcem", "dcem"]
    outside = prefecture.family_documents(Family(minor_children=1), worker, "78", "D-1", False, cdi)
    assert [d.titre for d in outside] == ["dcem_droit_commun"]


def test_II_C_2_no_recepisse_for_a_late_or_incomplete_deposit():
    assert prefecture.recepisse_possible(deposit_late=False, completed_late=False)
    assert not prefecture.recepisse_possible(deposit_late=True, completed_late=False)
    assert not prefecture.recepisse_possible(deposit_late=False, completed_late=True)
    assert prefecture.production_limit(datetime(2026, 2, 19, 9, tzinfo=PARIS)) == datetime(2026, 4, 19, 9, tzinfo=PARIS)


@pytest.mark.parametrize("salary,amount", [(1500, 74), (2500, 210), (3000, 300)])
def test_D311_18_2_employer_tax_for_three_to_twelve_months_by_salary_band(salary, amount):
    contract = {"kind": "cdd", "months": 6, "monthly_gross_salary_eur": salary}
    assert smoe.employer_tax_eur(filed(contract=contract)) == amount


def test_D311_18_2_no_fixed_amount_outside_three_to_twelve_months_and_72_for_jeune_professionnel():
    assert smoe.employer_tax_eur(filed()) is None
    assert smoe.employer_tax_eur(filed(contract={"kind": "cdd", "months": 24})) is None
    assert smoe.employer_tax_eur(filed(title="jeune_professionnel", contract={"kind": "cdd", "months": 12})) == 72


def test_D311_18_3_employer_tax_is_paid_within_three_months_of_the_visa():
    assert ofii.employer_tax_due_by(date(2026, 1, 25)) == date(2026, 4, 25)


def test_II_C_2_two_months_from_a_winter_morning_end_at_the_same_paris_hour_in_summer():
    # An instant read back from a message carries a fixed offset, not the Paris zone.
    received = datetime.fromisoformat("2026-02-19T09:00:00+01:00")
    limit = prefecture.production_limit(received)
    assert limit == datetime(2026, 4, 19, 9, 0, tzinfo=PARIS) and limit.isoformat() == "2026-04-19T09:00:00+02:00"
    assert prefecture.production_limit(datetime.fromisoformat("2026-12-31T09:00:00+01:00")) == datetime(
        2027, 2, 28, 9, 0, tzinfo=PARIS
    )


def test_II_E_3_annex_2_lists_the_holders_agdref_numbers_per_prefecture_not_the_cards_numbers():
    from services.prefecture.state import PrefectureDossier
    from services.views import biometric_report, biometric_tables

    states = []
    for department, dossier_id in (("78", "A"), ("31", "B")):
        card = prefecture.produce_card(
            "salarie_en_mission",
            prefecture.card_number(department, dossier_id),
            date(2026, 3, 14),
            36,
            dispense=True,
            agdref=prefecture.agdref_number(department, dossier_id),
        )
        states.append(
            PrefectureDossier(
                dossier_id=dossier_id,
                department=department,
                card=card,
                produced_at=datetime(2026, 3, 14, 9, tzinfo=PARIS),
            ).model_dump(mode="json")
        )
    assert prefecture.agdref_number("78", "A") != prefecture.card_number("78", "A")
    tables = biometric_tables(states, "2026-03")
    assert tables["78"]["2026-03"]["salarie_en_mission"] == [prefecture.agdref_number("78", "A")]
    assert list(biometric_tables(states, prefecture="31")) == ["31"]
    assert biometric_report(states)["2026-03"]["salarie_en_mission"] == 2
