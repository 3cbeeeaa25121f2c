"""The DT-OFII's decisions, pure functions of the dossier (circulaire 2012)."""
from __future__ import annotations

from datetime import date, datetime

from guichet import directory
from guichet.timeutil import add_days, add_hours, add_months, paris
from schemas.dossier import Dossier

SINGLE_WINDOW_TITLES = ("salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne")
TRANSMISSION_SMOE_DAYS = 5          # II.A.1
TRANSMISSION_CONSULAT_HOURS = 48    # II.A.1
DEPOSIT_MONTHS_BEFORE_VISA_END = 2  # II.C.1
HANDOVER_MONTHS = 1                 # II.D
SECOND_CONVOCATION_DAYS = 14
# II.D: the visit is booked alongside the card's production so that both meet at the visit;
# the appointment is set at the préfecture's usual production time.
CONVOCATION_DAYS = 30
MEDICAL_CERTIFICATE = "certificat_medical_ofii"


def route(dossier: Dossier) -> tuple[str, str]:
    """I.B, I.C, I.E: who the single window serves, and why not when it does not."""
    if dossier.title == "jeune_professionnel":
        if dossier.already_in_france:
            return "prefecture_residence", "déjà présent en France : préfecture du lieu de résidence (I.E)"
        return "guichet_unique", "jeune professionnel : guichet unique national (I.E)"
    if dossier.title not in SINGLE_WINDOW_TITLES:
        return "smoe_droit_commun", ("titre hors guichet unique : droit commun de l'article R.5221-16 1° "
                                     "du code du travail, SMOE territorialement compétent (I.E)")
    if dossier.already_in_france:
        return "prefecture_residence", ("étranger déjà présent en France : dossier complet à la préfecture "
                                        "du lieu de résidence (I.E)")
    if dossier.employment_department not in directory.guichet_unique_departments():
        return "smoe_droit_commun", (f"lieu effectif d'emploi ({dossier.employment_department}) hors des huit "
                                     "départements du guichet unique (I.C)")
    return "guichet_unique", "primo-migrant, titre et département du guichet unique (I.B, I.C, I.E)"


def competent_smoe(dossier: Dossier) -> str:
    """II.A.1: the SMOE of the département of effective employment; 2021: its platform."""
    if dossier.regime == "plateformes-2021":
        return directory.platform_for(dossier.employment_department, dossier.contract.kind == "saisonnier")
    return dossier.employment_department


def needs_work_authorisation(dossier: Dossier) -> bool:
    """II.A.2: for 'compétences et talents' the consulate decides; no SMOE takes part."""
    return dossier.title != "competences_et_talents"


OVERALL_TASK = "traitement_autorisation_travail"
OVERALL_WARNING_WEEKS, OVERALL_MAX_WEEKS = 4, 6  # II.A.1: "un délai maximum de 4 à 6 semaines"


def overall_deadline(filed: datetime) -> datetime:
    return add_days(filed, 7 * OVERALL_MAX_WEEKS)


def overall_warning(filed: datetime) -> datetime:
    return add_days(filed, 7 * OVERALL_WARNING_WEEKS)


RECOURS_MONTHS = 2  # the ordinary time limit to contest an administrative decision


def recours_deadline(refused: datetime) -> datetime:
    return add_months(refused, RECOURS_MONTHS)


def smoe_deadline(received: datetime) -> datetime:
    return add_days(received, TRANSMISSION_SMOE_DAYS)


def consulat_deadline(received: datetime) -> datetime:
    return add_hours(received, TRANSMISSION_CONSULAT_HOURS)


def missing_address_fields(dossier: Dossier) -> list[str]:
    """II.B: the complete personal address in the country of origin, postal, telephone and electronic."""
    address = dossier.worker.address_abroad
    return ["address_abroad"] if address is None else [f"address_abroad.{f}" for f in address.missing()]


def latest_deposit_day(visa_valid_until: date) -> date:
    """II.C.1: the complete card dossier is due at the latest two months before the visa expires."""
    return add_months(visa_valid_until, -DEPOSIT_MONTHS_BEFORE_VISA_END)


def deposit_late(deposited: datetime, visa_valid_until: date | None) -> bool:
    """II.C.1: "dossiers complets ... au maximum deux mois avant l'expiration de la validité du visa":
    `deposited` is when the dossier became complete; a later one does not guarantee the card in time."""
    return visa_valid_until is not None and paris(deposited).date() > latest_deposit_day(visa_valid_until)


def missing_documents(single_list: list[str], documents: list[str]) -> list[str]:
    """II.C.1: the préfecture's single list against what the dossier holds."""
    return [doc for doc in single_list if doc not in documents]


def medical_visit_required(dossier: Dossier, documents: list[str]) -> bool:
    """II.D: every single-window worker but the carte bleue holder, unless done abroad (RE-OFII)."""
    return dossier.title != "carte_bleue_europeenne" and MEDICAL_CERTIFICATE not in documents


def handover_limit(first_appointment: datetime) -> datetime:
    """II.D: beyond one month from the first convocation the card goes back to the préfecture."""
    return add_months(first_appointment, HANDOVER_MONTHS)


EMPLOYER_TAX_PAYMENT_MONTHS = 3  # D.311-18-3


def employer_tax_due_by(visa_issued: date) -> date:
    return add_months(visa_issued, EMPLOYER_TAX_PAYMENT_MONTHS)
