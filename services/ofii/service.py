"""Wiring of the DT-OFII service: its state, its handlers, its office and its simulated actors."""
from __future__ import annotations

from guichet.agency import AgencyDefinition
from schemas.autorisation_travail import DepotAutorisationTravail
from schemas.competences_talents import DecisionCompetencesTalents
from schemas.plateforme import InformationOfii
from services import directory
from services.ofii.actors import OfiiActors
from services.ofii.handlers import HANDLERS
from services.ofii.state import OfiiDossier


def office(d: OfiiDossier) -> str | None:
    """Annexe 1: the DT-OFII competent for the place of employment."""
    if d.dossier is None:
        return None
    return directory.dt_ofii_for(d.dossier.employment_department) or "DT-OFII"


DEFINITION = AgencyDefinition(name="ofii", state_model=OfiiDossier, handlers=HANDLERS,
                              office=office, actors=OfiiActors(), opening=(DepotAutorisationTravail, InformationOfii, DecisionCompetencesTalents))
