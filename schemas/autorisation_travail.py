"""II.A.1: the work-authorisation request, from the employer through the DT-OFII to the SMOE."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Message, Model
from schemas.dossier import Address, Dossier

GUICHET_UNIQUE_STAMP = "guichet unique"
Route = Literal["guichet_unique", "smoe_droit_commun", "prefecture_residence"]


class DepotAutorisationTravail(Message):
    """The employer files the dossier with the DT-OFII (II.A.1)."""
    TYPE = "employeur.depot_autorisation_travail"
    SENDER, RECIPIENT, STEP = "employeur", "ofii", "depot_autorisation_travail"
    dossier: Dossier


class TransmissionSmoe(Message):
    """The DT-OFII forwards the request, stamped 'guichet unique', to the SMOE of the
    département of effective employment, within 5 days (II.A.1); outside the single window,
    to the service competent by ordinary law, unstamped (I.E)."""
    TYPE = "ofii.transmission_smoe"
    SENDER, RECIPIENT, STEP = "ofii", "smoe", "transmission_smoe"
    dossier: Dossier
    route: Route
    smoe: str = Field(description="Département code of the SMOE, or the 2021 platform's name")
    stamp: Literal["guichet unique"] | None = None


class Criteria(Model):
    """The three criteria of the 2021 instruction."""
    situation_emploi_ok: bool = Field(description="Employment situation (opposabilité)")
    remuneration_ok: bool = Field(description="Remuneration conditions")
    employer_compliant: bool = Field(description="The employer meets its legal obligations")


class WorkAuthorisationDecision(Message):
    """What every SMOE decision on a work authorisation carries, first instruction or recours."""
    favorable: bool
    criteria: Criteria
    reasons: list[str] = Field(default_factory=list, description="Why a refusal was given")
    employer_tax_eur: int | None = Field(
        default=None, description="2021 note, D.311-18-2: the employer tax the OFII collects, where fixed")
    secured_authorisation_sent_to: list[Literal["employeur", "travailleur"]] = Field(
        default_factory=list, description="2021 note: to whom the platform sent the secured authorisation by e-mail",
        examples=[["employeur", "travailleur"], []])

    VERSION = 2

    @staticmethod
    def upcast_v1_v2(payload: dict) -> dict:
        """Version 1 came from a SMOE, which sent no secured authorisation."""
        return {**payload, "secured_authorisation_sent_to": []}


class DecisionAutorisationTravail(WorkAuthorisationDecision):
    """The SMOE decides within 10 days and sends the documents back to the DT-OFII (II.A.1)."""
    TYPE = "smoe.decision_autorisation_travail"
    SENDER, RECIPIENT, STEP = "smoe", "ofii", "decision_autorisation_travail"


class ComplementAdresse(Message):
    """The employer completes the worker's address abroad (II.B)."""
    TYPE = "employeur.complement_adresse"
    SENDER, RECIPIENT = "employeur", "ofii"
    address_abroad: Address


class InformationEmployeur(Message):
    """The DT-OFII tells the employer what became of the request (II.A.1, I.E)."""
    TYPE = "ofii.information_employeur"
    SENDER, RECIPIENT, STEP = "ofii", "employeur", "information_employeur"
    subject: Literal[
        "autorisation_accordee_dossier_transmis_consulat", "autorisation_refusee",
        "visa_refuse", "hors_guichet_unique", "adresse_a_completer",
    ]
    detail: str = ""
