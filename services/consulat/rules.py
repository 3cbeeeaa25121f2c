"""The consulate's rules (circulaire 2012, II.B)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from guichet.timeutil import add_days

VISA_DAYS = 15  # II.B: the visa within 15 days of receiving the dossier

# R.311-3 lists the long-stay visas that dispense from a card application (the "VLS-TS"): none of
# them is the single window's, whose workers apply for their card (II.C). Their visa is a plain
# "visa de long séjour" (the circular's word, I.B) with the card it leads to; compétences et talents
# keeps the mention of L.315-1 (II.A.2). Ordinary law's CDI worker does hold one (R.311-3 7°, "salarié").
VISA_MENTIONS = {
    "salarie_en_mission": "visa de long séjour « salarié en mission »",
    "carte_bleue_europeenne": "visa de long séjour « carte bleue européenne »",
    "competences_et_talents": "CESEDA L.315-1",
    "jeune_professionnel": "visa de long séjour « jeune professionnel »",
}
ORDINARY_LAW_MENTION = "VLS-TS salarié"


def competent_consulate(dossier) -> str:
    """II.B: the consulate of the worker's country of residence abroad (of nationality failing an address)."""
    address = dossier.worker.address_abroad
    country = address.country if address is not None and address.country else dossier.worker.nationality
    return f"Consulat de France ({country})"


def visa_deadline(received: datetime) -> datetime:
    return add_days(received, VISA_DAYS)


def visa_mention(title: str) -> str:
    return VISA_MENTIONS.get(title, ORDINARY_LAW_MENTION)


def visa_validity(issued: date, validity_days: int) -> tuple[date, date]:
    return issued, issued + timedelta(days=validity_days)


# The consul's task: the decision on the visa (15 days for a dossier the DT-OFII transmits, II.B).
DECISION_VISA_TASK = "decision_visa"
