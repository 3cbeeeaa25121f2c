"""Wiring of the SMOE service, with the agent's instruction simulated from the facts."""

from __future__ import annotations

from datetime import datetime

from guichet.agency import AgencyDefinition, Task
from guichet.timeutil import add_days
from schemas.actes import InstructionTerminee
from schemas.autorisation_travail import Criteria, TransmissionSmoe
from schemas.base import Message
from schemas.facts import Facts
from schemas.plateforme import DemandeAutorisationTravailEnLigne
from schemas.recours import RecoursGracieuxPlateforme, ReexamenTermine
from services.directory import Directory
from services.smoe.admission import TABLE
from services.smoe.handlers import HANDLERS
from services.smoe.rules import INSTRUCTION_TASK, RECOURS_TASK, REEXAMEN_TASK
from services.smoe.state import SmoeDossier


class SmoeActors:
    """The SMOE agent who examines the three criteria."""

    def play(self, task: Task, d: SmoeDossier, facts: Facts) -> list[tuple[Message, datetime]]:
        criteria = Criteria(
            situation_emploi_ok=facts.employment_situation_ok,
            remuneration_ok=facts.remuneration_ok,
            employer_compliant=facts.employer_compliant,
        )
        if task.name == INSTRUCTION_TASK:
            return [(InstructionTerminee(criteria=criteria), add_days(task.opened_at, facts.smoe_instruction_days))]
        if task.name == REEXAMEN_TASK:
            if facts.recours_favorable:
                criteria = Criteria(situation_emploi_ok=True, remuneration_ok=True, employer_compliant=True)
            # The contract's recours_days: the time the SMOE or platform takes to re-examine.
            return [(ReexamenTermine(criteria=criteria), add_days(task.opened_at, facts.recours_days))]
        if task.name == RECOURS_TASK and facts.recours_gracieux:
            # 2021: the employer files with the platform as soon as it is told of the refusal.
            return [(RecoursGracieuxPlateforme(arguments="recours gracieux de l'employeur"), task.opened_at)]
        return []


def act_office(act: Message, d: SmoeDossier) -> str | None:
    """The employer acts from its own establishment, by SIRET, as the employers' portal authenticates it."""
    return d.dossier.employer.siret if act.SENDER == "employeur" and d.dossier else "simulation"


def office(d: SmoeDossier) -> str | None:
    if d.unit is None:
        return None
    return d.unit if d.unit.startswith("plateforme") else f"SMOE {d.unit}"


def definition(directory: Directory) -> AgencyDefinition:
    """The SMOE and the 2021 platforms reading `directory` (their handlers as ctx.reference)."""
    return AgencyDefinition(
        name="smoe",
        state_model=SmoeDossier,
        handlers=HANDLERS,
        office=office,
        actors=SmoeActors(),
        act_office=act_office,
        gate=TABLE,
        reference=directory,
        opening=(TransmissionSmoe, DemandeAutorisationTravailEnLigne),
    )
