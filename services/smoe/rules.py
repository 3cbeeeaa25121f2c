"""The SMOE's decision, a pure function of the instruction's findings."""

from __future__ import annotations

import zlib
from datetime import datetime

from guichet.timeutil import add_days, add_months
from schemas.autorisation_travail import Criteria
from schemas.dossier import Dossier
from services.directory import Directory
from services.smoe.smic import smic_on

INSTRUCTION_DAYS = 10  # circulaire 2012, II.A.1

REFUSAL_REASONS = {
    "situation_emploi_ok": "situation de l'emploi opposable",
    "remuneration_ok": "conditions de rémunération non respectées",
    "employer_compliant": "l'employeur ne respecte pas ses obligations légales",
}


def instruction_deadline(received: datetime) -> datetime:
    """II.A.1: the SMOE decides within 10 days of receiving the dossier."""
    return add_days(received, INSTRUCTION_DAYS)


def competent_platform(dossier: Dossier, directory: Directory) -> str:
    """2021 note: the interregional platform of the place of employment; seasonal jobs to the
    national platform at Avignon."""
    return directory.platform_for(dossier.employment_department, dossier.contract.kind == "saisonnier")


def authorisation_number(department: str, dossier_id: str) -> str:
    """A stable number for the secured authorisation: the département, then a digest of the dossier."""
    return f"AT-{department}-{zlib.crc32(dossier_id.encode()) % 10**7:07d}"


def decide(criteria: Criteria) -> tuple[bool, list[str]]:
    """2021 note: the authorisation is granted when all three criteria are met; each one that is
    not becomes a reason of the refusal."""
    reasons = [text for field, text in REFUSAL_REASONS.items() if not getattr(criteria, field)]
    return not reasons, reasons


def employer_tax_eur(dossier: Dossier) -> int | None:
    """2021 note: the platform informs the OFII of the employer tax. D.311-18-2 fixes it for temporary
    jobs of more than 3 and less than 12 months, by salary band, and at 72 euros for a jeune
    professionnel; elsewhere the texts given here fix no amount. The bands are read against the SMIC
    in force on the day the request was filed."""
    if dossier.title == "jeune_professionnel":
        return 72
    months = dossier.contract.months
    if dossier.contract.kind == "cdi" or months is None or not (3 < months < 12):
        return None
    smic = smic_on(dossier.filed_on)
    if smic is None:
        return None
    salary = dossier.contract.monthly_gross_salary_eur
    if salary <= smic:
        return 74
    return 210 if salary <= 1.5 * smic else 300


# The agent's tasks: the instruction of the request, the re-examination after a recours gracieux;
# and, under 2021, the employer's recours filed with the platform.
INSTRUCTION_TASK, REEXAMEN_TASK, RECOURS_TASK = "instruction", "reexamen", "recours_gracieux"
RECOURS_MONTHS = 2  # the ordinary time limit to contest an administrative decision


def recours_deadline(refused: datetime) -> datetime:
    return add_months(refused, RECOURS_MONTHS)
