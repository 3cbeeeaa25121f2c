"""The DT-OFII's decisions, pure functions of the dossier (circulaire 2012)."""

from __future__ import annotations

from datetime import date, datetime

from guichet.timeutil import add_days, add_hours, add_months, paris
from schemas.dossier import Dossier
from services.consulat.rules import visa_deadline as visa_decision_deadline  # noqa: F401  (II.B, see below)
from services.directory import Directory
from services.prefecture.rules import spouse_card_due
from services.single_window import SINGLE_WINDOW_TITLES, route  # noqa: F401  (I.B-I.E, shared with the platform)
from services.smoe.rules import instruction_deadline as smoe_decision_deadline  # noqa: F401  (II.A.1)

# The SMOE's 10 days (II.A.1) and the consulate's 15 (II.B) are the law's, not the sender's: the
# DT-OFII counts them from its own transmissions (`smoe_decision_deadline`, `visa_decision_deadline`),
# and the deadline an answer carries is the sender's word, never believed.

TRANSMISSION_SMOE_DAYS = 5  # II.A.1
TRANSMISSION_CONSULAT_HOURS = 48  # II.A.1
DEPOSIT_MONTHS_BEFORE_VISA_END = 2  # II.C.1
HANDOVER_MONTHS = 1  # II.D
# II.D: "le convoque une seconde fois" without a delay, and the card goes back to the préfecture one
# month after the first convocation. Reading taken: two weeks after the missed visit, so that the
# second appointment still falls within that month and the card can be handed over at it.
SECOND_CONVOCATION_DAYS = 14
# II.D: the appointment for the visit and the card's production are launched "de manière
# concomitante" to meet at the visit; the texts give no date. Reading taken: the appointment at the
# préfecture's usual production time, 30 days (the contract's default `prefecture_production_days`),
# well inside its two months (II.C.2); a slower préfecture's card is handed over when it arrives.
CONVOCATION_DAYS = 30
MEDICAL_CERTIFICATE = "certificat_medical_ofii"


def competent_smoe(dossier: Dossier, directory: Directory) -> str:
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


def family_convoked(dossier: Dossier, documents: list[str]) -> list[str]:
    """I.D: the famille accompagnante is convoked to the medical visit together with the worker. II.D
    exempts the carte bleue holder, not the family: R.313-20-2 asks of the spouse the documents of
    R.313-1, medical certificate included, where the worker's titles except it. A spouse the texts give
    no card in the single window (`spouse_card_due`) is not its to convoke; a visit done abroad
    (RE-OFII) saw the family with the worker."""
    if MEDICAL_CERTIFICATE in documents:
        return []
    family = dossier.family
    spouse = family.spouse and spouse_card_due(dossier.title, dossier.contract)
    return ["spouse"] * spouse + ["minor_child"] * family.minor_children


def handover_limit(first_appointment: datetime) -> datetime:
    """II.D: beyond one month from the first convocation the card goes back to the préfecture."""
    return add_months(first_appointment, HANDOVER_MONTHS)


CARTE_BLEUE_DECISION_DAYS = 90  # R.313-19-1
CARTE_BLEUE_FAMILY_MONTHS = 6  # R.313-20-2 III


def carte_bleue_decision_deadline(title: str, applied: datetime) -> datetime | None:
    """R.313-19-1: the préfet decides on a carte bleue européenne within 90 days of the application,
    its deposit at the DT-OFII; silence past them is an implicit refusal."""
    return add_days(applied, CARTE_BLEUE_DECISION_DAYS) if title == "carte_bleue_europeenne" else None


def carte_bleue_family_deadline(title: str, spouse: bool, applied: datetime) -> datetime | None:
    """R.313-20-2 III: the spouse of a carte bleue holder gets a card within six months of the
    application, filed with the worker's (famille accompagnante, I.D). Minor children get a DCEM,
    a travel document and not a card (II.E.2): the six months do not bind it."""
    return add_months(applied, CARTE_BLEUE_FAMILY_MONTHS) if title == "carte_bleue_europeenne" and spouse else None


EMPLOYER_TAX_PAYMENT_MONTHS = 3  # D.311-18-3


def employer_tax_due_by(visa_issued: date) -> date:
    return add_months(visa_issued, EMPLOYER_TAX_PAYMENT_MONTHS)
