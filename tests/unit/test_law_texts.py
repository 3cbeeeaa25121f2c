"""Rules of the circular and the CESEDA held against their texts, rules alone: hours across a change
of time (II.A.1), compétences et talents outside the eight départements (II.A.2, R.315-4, R.315-7),
the spouse's card (R.313-20-2 II 2°, III), the family's medical visit (I.D, II.D), the recours
gracieux and the employer tax (D.311-18-2, D.311-18-3).

Each test names the text it checks."""

from datetime import date, datetime, timedelta

import pytest

from guichet.timeutil import PARIS, UTC, add_days, add_hours
from schemas.dossier import Contract, Family
from services.intake import first_message
from services.ofii import rules
from services.prefecture import rules as prefecture
from tests.conftest import DIRECTORY
from tests.unit.test_ofii_rules import filed

# 2026: summer time starts on Sunday 29 March at 02:00, ends on Sunday 25 October at 03:00.
OCTOBER = datetime(2026, 10, 23, 9, 0, tzinfo=PARIS)  # +02:00; 48 h later the clock reads +01:00
MARCH = datetime(2026, 3, 27, 9, 0, tzinfo=PARIS)  # +01:00; 48 h later the clock reads +02:00


@pytest.mark.parametrize("start", [OCTOBER, MARCH])
def test_ii_a_1_hours_are_elapsed_hours_across_a_change_of_time(start):
    end = add_hours(start, 48)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=48)
    assert end.tzinfo is PARIS


def test_ii_a_1_48_hours_from_friday_09_00_before_the_october_change_end_sunday_08_00():
    assert rules.consulat_deadline(OCTOBER).isoformat() == "2026-10-25T08:00:00+01:00"


def test_ii_a_1_48_hours_from_friday_09_00_before_the_march_change_end_sunday_10_00():
    assert rules.consulat_deadline(MARCH).isoformat() == "2026-03-29T10:00:00+02:00"


@pytest.mark.parametrize(
    "start,hours,late",
    [(OCTOBER, 48, False), (OCTOBER, 47.5, False), (OCTOBER, 48.5, True), (MARCH, 48, False), (MARCH, 48.5, True)],
)
def test_ii_a_1_an_agent_taking_h_hours_is_late_only_past_48_elapsed_hours(start, hours, late):
    assert (add_hours(start, hours) > rules.consulat_deadline(start)) is late


@pytest.mark.parametrize("start", [OCTOBER, MARCH])
def test_ii_a_1_days_stay_calendar_days_on_the_paris_clock(start):
    assert add_days(start, 5).hour == 9 and add_days(start, 5).date() == (start + timedelta(days=5)).date()


@pytest.mark.parametrize("regime", ["circulaire-2012", "plateformes-2021"])
@pytest.mark.parametrize("department", ["13", "33", "75"])
def test_ii_a_2_r_315_4_competences_et_talents_is_applied_for_at_the_consulate_whatever_the_departement(
    regime, department
):
    dossier = filed(regime=regime, title="competences_et_talents", employment_department=department)
    assert first_message(dossier, DIRECTORY).RECIPIENT == "consulat"
    assert not rules.needs_work_authorisation(dossier)  # R.315-7: the card is the work authorisation


def contract(kind, months=None):
    return Contract(kind=kind, months=months, monthly_gross_salary_eur=5200)


@pytest.mark.parametrize(
    "worker_contract,card",
    [(contract("cdi"), True), (contract("cdd", 7), True), (contract("cdd", 6), False), (contract("cdd", 3), False)],
)
def test_r_313_20_2_ii_2_salarie_en_mission_spouse_card_only_with_a_stay_of_more_than_six_months(worker_contract, card):
    assert prefecture.spouse_card_due("salarie_en_mission", worker_contract) is card
    worker = prefecture.produce_card("salarie_en_mission", "T78", date(2026, 3, 14), 36, dispense=True)
    family = Family(spouse=True, minor_children=1)
    docs = prefecture.family_documents(family, worker, "78", "D-1", True, worker_contract)
    assert [(doc.role, doc.titre) for doc in docs] == [("spouse", "vie_privee_et_familiale")] * card + [
        ("minor_child", "dcem")
    ]


@pytest.mark.parametrize("kind", ["competences_et_talents", "carte_bleue_europeenne"])
def test_l_313_11_3_r_313_20_2_i_iii_the_other_two_titles_give_the_spouse_the_card_whatever_the_contract(kind):
    assert prefecture.spouse_card_due(kind, contract("cdd", 3))


def test_l_313_11_3_gives_a_jeune_professionnel_spouse_no_vie_privee_et_familiale_card():
    assert not prefecture.spouse_card_due("jeune_professionnel", contract("cdd", 12))


def test_i_d_ii_d_the_family_is_convoked_with_the_worker():
    family = {"spouse": True, "minor_children": 2}
    assert rules.family_convoked(filed(family=family), []) == ["spouse", "minor_child", "minor_child"]


def test_ii_d_the_carte_bleue_holder_is_exempt_but_not_the_spouse():
    cb = filed(title="carte_bleue_europeenne", family={"spouse": True, "minor_children": 0})
    assert not rules.medical_visit_required(cb, [])
    assert rules.family_convoked(cb, []) == ["spouse"]


def test_ii_d_r_313_20_2_a_spouse_without_a_card_in_the_single_window_is_not_convoked():
    six_months = filed(family={"spouse": True, "minor_children": 0}, contract={"kind": "cdd", "months": 6})
    assert rules.family_convoked(six_months, []) == []


def test_ii_d_a_visit_done_abroad_saw_the_family_too():
    assert rules.family_convoked(filed(family={"spouse": True}), [rules.MEDICAL_CERTIFICATE]) == []


def test_contract_recours_days_defaults_to_the_ten_days_of_the_re_examination():
    from schemas.facts import Facts

    assert Facts().recours_days == 10
    assert "re-examine" in Facts.model_fields["recours_days"].description


def test_2021_note_the_employer_files_the_recours_with_the_platform():
    from schemas.recours import DecisionRecours, RecoursGracieux, RecoursGracieuxPlateforme

    assert (RecoursGracieuxPlateforme.SENDER, RecoursGracieuxPlateforme.RECIPIENT) == ("employeur", "smoe")
    assert RecoursGracieuxPlateforme.STEP == RecoursGracieux.STEP == "recours_gracieux"
    assert RecoursGracieux.RECIPIENT == "ofii"  # the circular's single window
    assert DecisionRecours.upcast({"favorable": True}, 2)["recours_filed_at"] is None


@pytest.mark.parametrize("filed_on,amount", [("2025-12-31", 210), ("2026-01-05", 74)])
def test_d_311_18_2_the_bands_use_the_smic_in_force_on_the_filing_date(filed_on, amount):
    from services.smoe import rules as smoe

    # 1 810 euros: above the SMIC of November 2024 (1 801,80), below that of January 2026 (1 823,03).
    six_months = {"kind": "cdd", "months": 6, "monthly_gross_salary_eur": 1810}
    assert smoe.employer_tax_eur(filed(filed_on=filed_on, contract=six_months)) == amount


def test_d_311_18_2_smic_table_in_force_from_each_revaluation():
    from services.smoe.smic import smic_on

    assert smic_on(date(2026, 1, 1)) == 1823.03 and smic_on(date(2025, 12, 31)) == 1801.80
    assert smic_on(date(2030, 6, 1)) == 1823.03  # in force until the next decree
    assert smic_on(date(2011, 12, 31)) is None


def test_ii_a_1_ii_e_1_the_48_hour_reminders_are_timed_in_elapsed_hours_across_october():
    from guichet.handler_context import Task
    from services.deadline_watch import watch_reminders

    task = Task(name="transmission_consulat", opened_at=OCTOBER, deadline=rules.consulat_deadline(OCTOBER))
    (_, warn), (_, breach) = watch_reminders("ofii", task)
    # A fifth of 48 elapsed hours before the deadline, and one second after it.
    assert task.deadline.astimezone(UTC) - warn.astimezone(UTC) == timedelta(hours=9, minutes=36)
    assert breach.astimezone(UTC) - task.deadline.astimezone(UTC) == timedelta(seconds=1)


def test_2021_note_a_recours_filed_with_the_smoe_under_the_circular_changes_nothing():
    """Under the circular (II.A.1) the recours goes through the DT-OFII: an employer sending it straight
    to the SMOE re-opens nothing; under the 2021 notes the platform takes it, once, on a refusal."""
    from datetime import UTC, datetime

    from schemas.recours import RecoursGracieuxPlateforme
    from services.smoe.handlers import recours_gracieux_plateforme
    from services.smoe.state import SmoeDossier

    class Recorded:
        received_at = datetime(2026, 1, 20, 9, tzinfo=UTC)

        def __init__(self):
            self.closed, self.awaited = [], []

        def close(self, task):
            self.closed.append(task)

        def await_act(self, task, **kwargs):
            self.awaited.append(task)

    for online, favorable, reopened in ((False, False, False), (True, True, False), (True, False, True)):
        ctx, d = Recorded(), SmoeDossier.model_construct(online=online, favorable=favorable, recours_received_at=None)
        recours_gracieux_plateforme(RecoursGracieuxPlateforme.model_construct(arguments=""), ctx, d)
        assert bool(ctx.awaited) == reopened and (d.recours_received_at is not None) == reopened, (online, favorable)
