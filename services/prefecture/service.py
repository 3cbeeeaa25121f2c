"""Wiring of the préfecture's service, with the production time simulated from the facts."""

from __future__ import annotations

from datetime import datetime

from guichet.agency import AgencyDefinition, Task
from guichet.timeutil import add_days
from schemas.actes import TitreProduit
from schemas.base import Message
from schemas.facts import Facts
from schemas.titre import TransmissionPrefecture
from services.directory import Directory
from services.prefecture.admission import TABLE
from services.prefecture.handlers import HANDLERS
from services.prefecture.rules import PRODUCTION_TASK
from services.prefecture.state import PrefectureDossier


class PrefectureActors:
    def play(self, task: Task, d: PrefectureDossier, facts: Facts) -> list[tuple[Message, datetime]]:
        if task.name != PRODUCTION_TASK:
            return []
        return [(TitreProduit(), add_days(task.opened_at, facts.prefecture_production_days))]


def office(d: PrefectureDossier, directory: Directory) -> str | None:
    return directory.prefecture_name(d.department) if d.department else None


def definition(directory: Directory) -> AgencyDefinition:
    """The préfecture reading `directory` (its handlers as ctx.reference)."""
    return AgencyDefinition(
        name="prefecture",
        state_model=PrefectureDossier,
        handlers=HANDLERS,
        office=lambda d: office(d, directory),
        actors=PrefectureActors(),
        gate=TABLE,
        reference=directory,
        opening=(TransmissionPrefecture,),
    )
