"""Rules of the circular and the CESEDA on whole dossiers, once in memory and once on RabbitMQ:
hours across a change of time (II.A.1), compétences et talents outside the eight départements
(II.A.2), the spouse's card (R.313-20-2), the family's medical visit (I.D, II.D), the recours
gracieux and the employer tax (D.311-18-2, D.311-18-3).

Each test names the text it checks."""

import pytest

from tests.conftest import dossier
from tests.integration.test_flow import run


def step(d, name):
    return next(s for s in d["steps"] if s["step"] == name)


# Filed on these days, the SMOE's decision reaches the DT-OFII on the Friday before a change of time
# (2 + 7 days by default), and the 48 hours to the consulate run across the Sunday.
OCTOBER, MARCH = "2026-10-14", "2026-03-18"


@pytest.mark.parametrize("filed_on,hours,late", [(OCTOBER, 48, False), (OCTOBER, 47.5, False), (MARCH, 48.5, True)])
def test_ii_a_1_the_48_hours_to_the_consulate_are_elapsed_across_a_change_of_time(broker, filed_on, hours, late):
    d = run(broker, dossier(filed_on=filed_on, facts={"ofii_consulat_hours": hours}))[0]["D-1"]
    assert step(d, "transmission_consulat")["late"] is late
    assert ("transmission_consulat" in d["deadline_breaches"]) is late


@pytest.mark.parametrize("regime", ["circulaire-2012", "plateformes-2021"])
def test_ii_a_2_r_315_7_competences_et_talents_outside_the_eight_departements_has_no_smoe(broker, regime):
    ct = dossier(title="competences_et_talents", employment_department="13", residence_department="13")
    d = run(broker, ct, regime=regime)[0]["D-1"]
    assert (d["route"], d["outcome"], d["smoe"]) == ("smoe_droit_commun", "hors_guichet_unique", None)
    assert [(s["step"], s["from"], s["to"]) for s in d["steps"]] == [
        ("demande_competences_talents", "travailleur", "consulat"),
        ("decision_competences_talents", "consulat", "ofii"),
    ]


@pytest.mark.parametrize("months,spouse_card", [(6, False), (7, True)])
def test_r_313_20_2_ii_2_salarie_en_mission_on_a_fixed_term_spouse_card_beyond_six_months(broker, months, spouse_card):
    mission = dossier(family={"spouse": True}, contract={"kind": "cdd", "months": months})
    d = run(broker, mission)[0]["D-1"]
    assert d["outcome"] == "titre_remis"
    assert [m["titre"] for m in d["family"] if m["role"] == "spouse"] == ["vie_privee_et_familiale"] * spouse_card


def test_i_d_ii_d_the_spouse_of_a_carte_bleue_holder_is_convoked_to_the_medical_visit(broker):
    cb = dossier(
        title="carte_bleue_europeenne", family={"spouse": True, "minor_children": 1}, employment_department="75"
    )
    d = run(broker, cb)[0]["D-1"]
    assert d["outcome"] == "titre_remis" and d["medical_visit_required"] is False
    assert "convocation_visite_medicale" in [s["step"] for s in d["steps"]]
    assert d["medical_visit_convoked"] == ["spouse", "minor_child"]


def test_i_d_the_family_is_convoked_together_with_the_worker(broker):
    d = run(broker, dossier(family={"spouse": True, "minor_children": 1}))[0]["D-1"]
    assert [s["step"] for s in d["steps"]].count("convocation_visite_medicale") == 1
    assert d["medical_visit_convoked"] == ["worker", "spouse", "minor_child"]


RECOURS = {"remuneration_ok": False, "recours_gracieux": True, "recours_favorable": True, "recours_days": 20}
LYON = {"employment_department": "69", "residence_department": "69"}


def test_contract_recours_days_is_the_time_the_smoe_takes_to_re_examine(broker):
    d = run(broker, dossier(**LYON, facts=RECOURS))[0]["D-1"]
    filed, decided = step(d, "recours_gracieux"), step(d, "decision_recours")
    assert filed["at"] == step(d, "information_employeur")["at"]  # filed as soon as the employer is told
    assert (filed["from"], filed["to"]) == ("employeur", "ofii") and "transmission_recours" in [
        s["step"] for s in d["steps"]
    ]
    assert decided["at"][:10] == "2026-02-03"  # refused on 14 January, re-examined in 20 days
    assert d["outcome"] == "titre_remis"


def test_2021_note_the_recours_gracieux_goes_to_the_platform_not_through_the_dt_ofii(broker):
    d = run(broker, dossier(**LYON, facts=RECOURS), regime="plateformes-2021")[0]["D-1"]
    filed = step(d, "recours_gracieux")
    assert (filed["from"], filed["to"]) == ("employeur", "smoe")
    assert "transmission_recours" not in [s["step"] for s in d["steps"]]
    assert step(d, "decision_recours")["at"][:10] == "2026-02-01"  # refused on 12 January, 20 days
    assert d["outcome"] == "titre_remis"


def test_2021_note_a_recours_the_platform_rejects_ends_the_dossier(broker):
    facts = {**RECOURS, "recours_favorable": False}
    d = run(broker, dossier(**LYON, facts=facts), regime="plateformes-2021")[0]["D-1"]
    assert d["outcome"] == "autorisation_travail_refusee"
    assert [s["step"] for s in d["steps"]][-3:] == ["recours_gracieux", "decision_recours", "information_employeur"]


TAXED = {"kind": "cdd", "months": 6, "monthly_gross_salary_eur": 2500}  # D.311-18-2: 210 euros


def test_d_311_18_2_d_311_18_3_a_no_employer_tax_when_the_visa_is_refused(broker):
    granted = run(broker, dossier(contract=TAXED))[0]["D-1"]
    assert granted["employer_tax_eur"] == 210
    refused = run(broker, dossier(contract=TAXED, facts={"visa_granted": False}))[0]["D-1"]
    assert refused["outcome"] == "visa_refuse"
    assert refused["employer_tax_eur"] is None and refused["employer_tax_due_by"] is None
