"""The people around the DT-OFII, simulated from a scenario's facts until real ones send their acts:
the DT-OFII's agents, the employer and the worker."""

from __future__ import annotations

from datetime import datetime

from guichet.agency import Task
from guichet.timeutil import add_days, add_hours
from schemas.actes import TransmissionValidee
from schemas.base import Message
from schemas.facts import Facts
from schemas.recours import RecoursGracieux
from schemas.remise import PresentationConvocation
from schemas.titre import ComplementsTitre, DepotTitre
from services.directory import Directory
from services.ofii.rules import MEDICAL_CERTIFICATE
from services.ofii.state import OfiiDossier
from services.ofii.tasks import (
    COMPLEMENTS_TITRE,
    CONVOCATION_NUMBER,
    DEPOT_TITRE,
    RECOURS_GRACIEUX,
    TRANSMISSION_CONSULAT,
    TRANSMISSION_SMOE,
)


class OfiiActors:
    def __init__(self, directory: Directory):
        self.directory = directory

    def play(self, task: Task, d: OfiiDossier, facts: Facts) -> list[tuple[Message, datetime]]:
        opened = task.opened_at
        if task.name == TRANSMISSION_SMOE:
            return [
                (TransmissionValidee(transmission=TRANSMISSION_SMOE), add_days(opened, facts.ofii_transmission_days))
            ]
        if task.name == TRANSMISSION_CONSULAT:
            return [
                (TransmissionValidee(transmission=TRANSMISSION_CONSULAT), add_hours(opened, facts.ofii_consulat_hours))
            ]
        if task.name == DEPOT_TITRE:
            arrival = add_days(opened, facts.arrival_days_after_visa)
            documents = self._documents(d, facts)
            if not facts.titre_dossier_complete:
                documents = documents[1:]  # the employer forgets one document of the single list
            return [
                (
                    DepotTitre(arrived_on=arrival.date(), documents=documents),
                    add_days(arrival, facts.titre_deposit_days_after_arrival),
                )
            ]
        if task.name == COMPLEMENTS_TITRE:
            if facts.titre_completion_days is None:
                return []  # the documents never come: the dossier waits
            return [
                (ComplementsTitre(documents=self._documents(d, facts)), add_days(opened, facts.titre_completion_days))
            ]
        if task.name == RECOURS_GRACIEUX:
            if not facts.recours_gracieux:
                return []
            # The facts say whether the employer contests, not when: it files as soon as it is told.
            return [(RecoursGracieux(arguments="recours gracieux de l'employeur"), opened)]
        if task.name in CONVOCATION_NUMBER:
            number = CONVOCATION_NUMBER[task.name]
            return [
                (
                    PresentationConvocation(number=number, present=number > facts.medical_no_shows),
                    task.deadline or opened,
                )
            ]
        return []

    def _documents(self, d: OfiiDossier, facts: Facts) -> list[str]:
        documents = list(self.directory.prefecture_policy(d.dossier.residence_department)["single_list"])
        if facts.medical_abroad:
            documents.append(MEDICAL_CERTIFICATE)
        return documents
