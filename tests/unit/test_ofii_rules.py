"""The DT-OFII's rules alone (circulaire 2012; CESEDA D.311-18-2)."""

from datetime import date, datetime

import pytest

from guichet.timeutil import PARIS
from schemas.dossier import Dossier
from services.ofii import rules
from tests.conftest import DIRECTORY, dossier


def filed(**changes) -> Dossier:
    raw = dossier(**changes)
    raw.pop("id"), raw.pop("facts")
    return Dossier.model_validate(raw)


@pytest.mark.parametrize("department", ["31", "38", "59", "63", "69", "75", "78", "92"])
@pytest.mark.parametrize("title", ["salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne"])
def test_I_B_I_C_three_titles_in_eight_departments_use_the_single_window(title, department):
    assert rules.route(filed(title=title, employment_department=department), DIRECTORY)[0] == "guichet_unique"


def test_I_C_employment_outside_the_eight_departments_goes_to_ordinary_law_and_says_why():
    route, reason = rules.route(filed(employment_department="13"), DIRECTORY)
    assert route == "smoe_droit_commun"
    assert "13" in reason and "I.C" in reason


def test_I_E_effective_place_of_work_decides_not_residence():
    assert rules.route(filed(employment_department="92", residence_department="13"), DIRECTORY)[0] == "guichet_unique"
    assert (
        rules.route(filed(employment_department="13", residence_department="92"), DIRECTORY)[0] == "smoe_droit_commun"
    )


def test_I_E_someone_already_in_france_goes_to_the_prefecture_of_residence():
    route, reason = rules.route(filed(already_in_france=True), DIRECTORY)
    assert route == "prefecture_residence" and "I.E" in reason


def test_I_E_other_professional_titles_follow_ordinary_law():
    assert rules.route(filed(title="autre"), DIRECTORY)[0] == "smoe_droit_commun"


def test_I_E_jeunes_professionnels_use_the_single_window_nationwide():
    assert rules.route(filed(title="jeune_professionnel", employment_department="13"), DIRECTORY)[0] == "guichet_unique"


def test_II_A_1_smoe_of_the_departement_of_employment():
    assert rules.competent_smoe(filed(employment_department="92", residence_department="78"), DIRECTORY) == "92"


def test_2021_platforms_auvergne_rhone_alpes_to_clermont_and_seasonal_to_avignon():
    assert (
        rules.competent_smoe(filed(regime="plateformes-2021", employment_department="69"), DIRECTORY)
        == "plateforme Clermont-Ferrand"
    )
    seasonal = filed(regime="plateformes-2021", contract={"kind": "saisonnier", "months": 6})
    assert rules.competent_smoe(seasonal, DIRECTORY) == "plateforme Avignon"


def test_II_A_1_five_days_to_the_smoe_and_48_hours_to_the_consulate():
    received = datetime(2026, 3, 27, 9, 0, tzinfo=PARIS)  # DST starts on 29 March 2026
    assert rules.smoe_deadline(received) == datetime(2026, 4, 1, 9, 0, tzinfo=PARIS)
    assert rules.consulat_deadline(datetime(2026, 1, 14, 9, 0, tzinfo=PARIS)) == datetime(
        2026, 1, 16, 9, 0, tzinfo=PARIS
    )


def test_II_C_1_deposit_later_than_two_months_before_the_visa_expires_is_late():
    visa_end = date(2026, 12, 31)
    assert rules.latest_deposit_day(visa_end) == date(2026, 10, 31)
    assert not rules.deposit_late(datetime(2026, 10, 31, 17, 0, tzinfo=PARIS), visa_end)
    assert rules.deposit_late(datetime(2026, 11, 1, 9, 0, tzinfo=PARIS), visa_end)


def test_II_C_1_single_list_of_documents():
    assert rules.missing_documents(["passeport", "photos", "bail"], ["photos"]) == ["passeport", "bail"]
    assert rules.missing_documents(["passeport"], ["passeport", "autre"]) == []


def test_II_D_carte_bleue_and_a_visit_done_abroad_need_no_medical_visit():
    assert rules.medical_visit_required(filed(), [])
    assert not rules.medical_visit_required(filed(title="carte_bleue_europeenne"), [])
    assert not rules.medical_visit_required(filed(), [rules.MEDICAL_CERTIFICATE])


def test_II_D_card_goes_back_one_month_after_the_first_convocation():
    first = datetime(2026, 1, 31, 9, 0, tzinfo=PARIS)
    assert rules.handover_limit(first) == datetime(2026, 2, 28, 9, 0, tzinfo=PARIS)


def test_II_C_1_the_limit_is_on_the_complete_dossier_completed_after_it_is_late():
    visa_end = date(2026, 4, 25)
    assert not rules.deposit_late(datetime(2026, 2, 19, 9, 0, tzinfo=PARIS), visa_end)  # first, incomplete
    assert rules.deposit_late(datetime(2026, 3, 11, 9, 0, tzinfo=PARIS), visa_end)  # completed
