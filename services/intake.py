"""Where a dossier starts, and the filing that opens it.

The law says who files first (II.A.1, II.A.2, I.E; since 2021 the platforms): the worker's
application at the consulate for 'compétences et talents', the employer's online request to the
platform under the 2021 notes, else the employer's deposit at the DT-OFII. The employers' portal
(`guichet submit`) and the simulator file through the same function, so both open a dossier at the
party the law names."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from guichet.envelope import Envelope, Sender, wrap
from guichet.message import Message
from schemas.autorisation_travail import DepotAutorisationTravail
from schemas.competences_talents import DemandeCompetencesTalents
from schemas.dossier import Dossier
from schemas.plateforme import DemandeAutorisationTravailEnLigne
from services import single_window
from services.directory import Directory


class Filed(Protocol):
    """A dossier as a scenario describes it: what the employer files under a regime, the employer's
    establishment, and the facts the simulated people will follow."""

    employer: Any
    facts: Any

    def filed(self, regime: str) -> Dossier: ...


def first_message(dossier: Dossier, directory: Directory) -> Message:
    """Where a dossier starts: the worker's application at the consulate for 'compétences et talents'
    (II.A.2); since 2021 the employer's online request to the platform; else the employer's deposit
    at the DT-OFII (II.A.1, I.E)."""
    if single_window.applied_for_at_the_consulate(dossier, directory):
        return DemandeCompetencesTalents(dossier=dossier)
    if single_window.filed_online(dossier):
        return DemandeAutorisationTravailEnLigne(dossier=dossier)
    return DepotAutorisationTravail(dossier=dossier)


def filing(dossier_id: str, scenario_dossier: Filed, regime: str, at: datetime, directory: Directory) -> Envelope:
    """The filing that opens a dossier, with the facts the simulated people will follow."""
    message = first_message(scenario_dossier.filed(regime), directory)
    # The employer files for itself, from its establishment as the employers' portal knows it: its SIRET.
    office = scenario_dossier.employer.siret if message.SENDER == "employeur" else None
    return wrap(
        message,
        dossier_id=dossier_id,
        sender=Sender(agency=message.SENDER, office=office),
        sent_at=at,
        facts=scenario_dossier.facts.model_dump(mode="json"),
    )
