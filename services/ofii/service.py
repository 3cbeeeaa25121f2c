"""Wiring of the DT-OFII service: its state, its handlers, its office and its simulated actors."""

from __future__ import annotations

from guichet.agency import AgencyDefinition
from schemas.autorisation_travail import DepotAutorisationTravail
from schemas.base import Message
from schemas.competences_talents import DecisionCompetencesTalents
from schemas.plateforme import InformationOfii
from services.directory import Directory
from services.ofii.actors import OfiiActors
from services.ofii.admission import TABLE
from services.ofii.handlers import HANDLERS
from services.ofii.state import OfiiDossier
from services.supervision_view import supervision_view


def office(d: OfiiDossier, directory: Directory) -> str | None:
    """Annexe 1: the DT-OFII competent for the place of employment."""
    if d.dossier is None:
        return None
    return directory.dt_ofii_for(d.dossier.employment_department) or "DT-OFII"


def act_office(act: Message, d: OfiiDossier) -> str | None:
    """The employer acts from its own establishment, by SIRET, as the employers' portal authenticates
    it; the other people around the DT-OFII are simulated as such."""
    return d.dossier.employer.siret if act.SENDER == "employeur" and d.dossier else "simulation"


def definition(directory: Directory) -> AgencyDefinition:
    """The DT-OFII reading `directory` (its handlers as ctx.reference)."""
    return AgencyDefinition(
        name="ofii",
        state_model=OfiiDossier,
        handlers=HANDLERS,
        office=lambda d: office(d, directory),
        actors=OfiiActors(directory),
        gate=TABLE,
        act_office=act_office,
        reference=directory,
        opening=(DepotAutorisationTravail, InformationOfii, DecisionCompetencesTalents),
        supervision=lambda state: supervision_view(state, directory),
    )
