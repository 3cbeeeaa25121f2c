"""II.C: the residence-card dossier, its transmission to the préfecture and the card itself."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from schemas.base import Message, Model
from schemas.dossier import Dossier, Family

CardKind = Literal[
    "salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne",
    "jeune_professionnel", "vie_privee_et_familiale",
]


class DepotTitre(Message):
    """On arrival, the employer sends the card dossier to the DT-OFII (II.C.1)."""
    TYPE = "employeur.depot_titre"
    SENDER, RECIPIENT, STEP = "employeur", "ofii", "depot_titre"
    arrived_on: date
    documents: list[str] = Field(description="Documents joined, named as in the préfecture's single list")


class DemandeComplements(Message):
    """The DT-OFII sends an incomplete dossier back for completion (II.C.1)."""
    TYPE = "ofii.demande_complements"
    SENDER, RECIPIENT, STEP = "ofii", "employeur", "demande_complements"
    missing: list[str]


class ComplementsTitre(Message):
    """The missing documents reach the DT-OFII."""
    TYPE = "employeur.complements_titre"
    SENDER, RECIPIENT = "employeur", "ofii"
    documents: list[str]


class TransmissionPrefecture(Message):
    """Once the dossier is complete, the DT-OFII sends it without delay, stamped 'guichet
    unique', to the préfecture of residence (II.C.1, R.311-10)."""
    TYPE = "ofii.transmission_prefecture"
    SENDER, RECIPIENT, STEP = "ofii", "prefecture", "transmission_prefecture"
    dossier: Dossier
    family: Family
    stamp: Literal["guichet unique"] = "guichet unique"
    card_kind: CardKind
    visa_valid_until: date | None = None
    deposit_late: bool = Field(description="Deposited later than two months before the visa expires")
    completed_late: bool = Field(description="The dossier was incomplete through the applicant's doing")
    biometric_dispense: bool = Field(description="II.E.3: temporary dispense from fingerprinting")
    decided_by_consulate: bool = Field(
        default=False, description="II.C.1: compétences et talents, the préfet only produces the card")


class Card(Model):
    kind: CardKind
    number: str
    valid_from: date
    valid_until: date
    fingerprints: bool
    agdref_observation: str | None = None
    agdref_number: str | None = Field(
        default=None, description="The holder's AGDREF dossier number (not the card's): annex 2 lists these")


class FamilyDocument(Model):
    role: Literal["spouse", "minor_child"]
    titre: Literal["vie_privee_et_familiale", "dcem", "dcem_droit_commun"]
    card: Card | None = None


class TransmissionTitre(Message):
    """The préfecture has produced the card and sends it to the DT-OFII for hand-over
    (II.C.2, R.311-10); the family's documents travel with it."""
    TYPE = "prefecture.transmission_titre"
    SENDER, RECIPIENT, STEP = "prefecture", "ofii", "transmission_titre_ofii"
    produced_at: datetime
    card: Card
    family: list[FamilyDocument] = Field(default_factory=list)


class Recepisse(Message):
    """II.C.2: the préfecture cannot produce the card within two months of the complete dossier."""
    TYPE = "prefecture.recepisse"
    SENDER, RECIPIENT, STEP = "prefecture", "ofii", "recepisse"
    valid_until: date
