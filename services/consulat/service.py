"""Wiring of the consulate's service, with the consul's decision simulated from the facts."""

from __future__ import annotations

from datetime import datetime

from guichet.agency import AgencyDefinition, Task
from guichet.timeutil import add_days
from schemas.actes import DecisionConsul
from schemas.base import Message
from schemas.competences_talents import DemandeCompetencesTalents
from schemas.facts import Facts
from schemas.visa import TransmissionConsulat
from services.consulat.admission import TABLE
from services.consulat.handlers import HANDLERS
from services.consulat.rules import DECISION_VISA_TASK, competent_consulate
from services.consulat.state import ConsulatDossier
from services.directory import Directory


class ConsulActors:
    def play(self, task: Task, d: ConsulatDossier, facts: Facts) -> list[tuple[Message, datetime]]:
        if task.name != DECISION_VISA_TASK:
            return []
        act = DecisionConsul(
            granted=facts.visa_granted,
            validity_days=facts.visa_validity_days,
            reason=None if facts.visa_granted else "refus consulaire",
        )
        return [(act, add_days(task.opened_at, facts.visa_instruction_days))]


def office(d: ConsulatDossier) -> str | None:
    if d.dossier is None:
        return None
    return competent_consulate(d.dossier)


def definition(directory: Directory) -> AgencyDefinition:
    """The consulate: its handlers read nothing of the directory, handed to it as to the others."""
    return AgencyDefinition(
        name="consulat",
        state_model=ConsulatDossier,
        handlers=HANDLERS,
        office=office,
        actors=ConsulActors(),
        gate=TABLE,
        reference=directory,
        opening=(TransmissionConsulat, DemandeCompetencesTalents),
    )
