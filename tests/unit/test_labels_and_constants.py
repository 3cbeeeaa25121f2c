"""Labels and constants the texts fix, or leave to a reading written in docs/law.md: the visa's
mention (R.311-3), the DCEM's validity (D.321-20), the récépissé's validity (II.C.2), the medical
convocation's date (II.D) and the second convocation's delay (II.D)."""

from datetime import date, datetime

from guichet.timeutil import PARIS, add_days
from schemas.dossier import Contract, Family
from services.consulat import rules as consulat
from services.ofii import rules as ofii
from services.prefecture import rules as prefecture


def test_R311_3_no_vls_ts_on_the_single_windows_visas_whose_holders_apply_for_their_card():
    for title in ("salarie_en_mission", "carte_bleue_europeenne", "jeune_professionnel"):
        mention = consulat.visa_mention(title)
        assert "VLS-TS" not in mention and mention.startswith("visa de long séjour")
    assert consulat.visa_mention("salarie_en_mission") == "visa de long séjour « salarié en mission »"
    assert consulat.visa_mention("competences_et_talents") == "CESEDA L.315-1"  # II.A.2
    assert consulat.visa_mention("autre") == "VLS-TS salarié"  # ordinary law's CDI worker, R.311-3 7°


def test_D321_20_the_dcem_of_the_single_window_is_valid_five_years_from_its_issue_with_the_card():
    worker = prefecture.produce_card("salarie_en_mission", "7800000001", date(2026, 3, 14), 36, dispense=True)
    cdi = Contract(kind="cdi", monthly_gross_salary_eur=1)
    docs = prefecture.family_documents(Family(minor_children=2), worker, "78", "D-1", True, cdi)
    assert [(d.titre, d.valid_until) for d in docs] == [("dcem", date(2031, 3, 14))] * 2
    outside = prefecture.family_documents(Family(minor_children=1), worker, "78", "D-1", False, cdi)
    assert outside[0].titre == "dcem_droit_commun" and outside[0].valid_until is None  # issued outside


def test_II_C_2_reading_the_recepisse_is_valid_three_months_from_its_issue():
    assert prefecture.RECEPISSE_MONTHS == 3
    assert prefecture.recepisse_until(date(2026, 4, 19)) == date(2026, 7, 19)


def test_II_D_reading_the_convocation_meets_the_cards_usual_production_inside_its_two_months():
    """II.D: visit and production launched together to meet at the visit; the appointment at the
    préfecture's usual production time, within the two months of II.C.2."""
    sent = datetime(2026, 3, 2, 9, tzinfo=PARIS)
    appointment = add_days(sent, ofii.CONVOCATION_DAYS)
    assert appointment == datetime(2026, 4, 1, 9, tzinfo=PARIS)
    assert appointment < prefecture.production_limit(sent)


def test_II_D_reading_the_second_convocation_falls_within_the_month_of_the_first():
    """II.D: a second convocation, then the card goes back one month after the first: the second
    appointment, two weeks after the missed one, still comes before the card goes back."""
    first = datetime(2026, 2, 27, 9, tzinfo=PARIS)  # February: the shortest month
    second = add_days(first, ofii.SECOND_CONVOCATION_DAYS)
    assert second < ofii.handover_limit(first)
