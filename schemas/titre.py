"""II.C: the residence-card dossier, its transmission to the préfecture and the card itself."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from schemas.base import Message, Model
from schemas.dossier import DOSSIER_EXAMPLE, FAMILY_EXAMPLE, Dossier, Family
from schemas.steps import Step

CardKind = Literal[
    "salarie_en_mission",
    "competences_et_talents",
    "carte_bleue_europeenne",
    "jeune_professionnel",
    "vie_privee_et_familiale",
]
# The préfecture's liste unique of documents (II.C.1), as the directory names it by default.
DOCUMENTS_EXAMPLE = [
    "passeport",
    "visa_long_sejour",
    "photographies_conformes",
    "justificatif_domicile",
    "contrat_de_travail_vise",
    "enveloppes_pre_timbrees",
]
CARD_EXAMPLE = {
    "kind": "salarie_en_mission",
    "number": "7812345678",
    "valid_from": "2026-03-10",
    "valid_until": "2029-03-10",
    "fingerprints": False,
    "agdref_observation": "Titre de séjour n° 7812345678 valable du 10/03/2026 au 10/03/2029 produit sans empreinte",
}
SPOUSE_CARD_EXAMPLE = {
    **CARD_EXAMPLE,
    "kind": "vie_privee_et_familiale",
    "number": "7887654321",
    "agdref_observation": "Titre de séjour n° 7887654321 valable du 10/03/2026 au 10/03/2029 produit sans empreinte",
}
FAMILY_DOCUMENT_EXAMPLE = {"role": "spouse", "titre": "vie_privee_et_familiale", "card": SPOUSE_CARD_EXAMPLE}


class DepotTitre(Message):
    """On arrival, the employer sends the card dossier to the DT-OFII (II.C.1)."""

    TYPE = "employeur.depot_titre"
    SENDER, RECIPIENT, STEP = "employeur", "ofii", Step.DEPOT_TITRE
    arrived_on: date = Field(
        description="Arrivée de l'étranger sur le territoire français (II.C.1): the card dossier is made up from then",
        examples=["2026-02-20"],
    )
    documents: list[str] = Field(
        description="Pièces justificatives joined, named as in the préfecture's liste unique (II.C.1)",
        examples=[DOCUMENTS_EXAMPLE],
    )


class DemandeComplements(Message):
    """The DT-OFII sends an incomplete dossier back for completion (II.C.1)."""

    TYPE = "ofii.demande_complements"
    SENDER, RECIPIENT, STEP = "ofii", "employeur", Step.DEMANDE_COMPLEMENTS
    missing: list[str] = Field(
        description="Pièces of the préfecture's liste unique still missing (II.C.1)",
        examples=[["justificatif_domicile"], ["photographies_conformes", "passeport"]],
    )


class ComplementsTitre(Message):
    """The missing documents reach the DT-OFII."""

    TYPE = "employeur.complements_titre"
    SENDER, RECIPIENT = "employeur", "ofii"
    documents: list[str] = Field(
        description="Pièces justificatives sent to complete the dossier, named as in the liste unique (II.C.1)",
        examples=[["justificatif_domicile"]],
    )


class TransmissionPrefecture(Message):
    """Once the dossier is complete, the DT-OFII sends it without delay, stamped 'guichet
    unique', to the préfecture of residence (II.C.1, R.311-10)."""

    TYPE = "ofii.transmission_prefecture"
    SENDER, RECIPIENT, STEP = "ofii", "prefecture", Step.TRANSMISSION_PREFECTURE
    dossier: Dossier = Field(
        description="Le dossier de demande de carte de séjour, complete, for the préfecture of residence (II.C.1)",
        examples=[DOSSIER_EXAMPLE],
    )
    family: Family = Field(
        description="Famille accompagnante whose documents are produced together with the worker's card (I.D, II.E.2)",
        examples=[FAMILY_EXAMPLE],
    )
    stamp: Literal["guichet unique"] = Field(
        default="guichet unique", description="Tampon « guichet unique » (II.C.1)", examples=["guichet unique"]
    )
    card_kind: CardKind = Field(
        description="Carte de séjour to produce (I.B)", examples=["salarie_en_mission", "competences_et_talents"]
    )
    visa_valid_until: date | None = Field(
        default=None,
        description="Fin de validité du visa de long séjour: the complete dossier is due at the latest two months "
        "before (II.C.1)",
        examples=["2027-02-05"],
    )
    deposit_late: bool = Field(
        description="Dépôt tardif: deposited later than two months before the visa expires (II.C.1); no récépissé "
        "then (II.C.2)",
        examples=[False, True],
    )
    completed_late: bool = Field(
        description="Dossier incomplet du fait du demandeur: the dossier was incomplete through the applicant's doing; "
        "no récépissé then (II.C.2)",
        examples=[False, True],
    )
    biometric_dispense: bool = Field(
        description="Dispense temporaire d'enrôlement biométrique: no fingerprints taken (II.E.3)",
        examples=[True, False],
    )
    decided_by_consulate: bool = Field(
        default=False,
        description="II.C.1: compétences et talents, the consular authority alone decides (R.315-7); the préfet only "
        "produces the card, without re-examining the dossier",
        examples=[False, True],
    )
    decision_due_by: datetime | None = Field(
        default=None,
        description="R.313-19-1: carte bleue européenne, the préfet decides within 90 days of the "
        "card application; silence past it is an implicit refusal",
        examples=["2026-05-15T09:00:00+02:00", None],
    )
    family_decision_due_by: datetime | None = Field(
        default=None,
        description="R.313-20-2 III: the spouse of a carte bleue holder gets a card within six "
        "months of the application",
        examples=["2026-08-15T09:00:00+02:00", None],
    )

    VERSION = 2

    @staticmethod
    def upcast_v1_v2(payload: dict) -> dict:
        """Version 1 carried no decision deadline: none is watched."""
        return {**payload, "decision_due_by": None, "family_decision_due_by": None}


class Card(Model):
    kind: CardKind = Field(
        description="Mention de la carte de séjour (I.B); « vie privée et familiale » for the spouse (II.E.2)",
        examples=["salarie_en_mission", "vie_privee_et_familiale"],
    )
    number: str = Field(description="Numéro du titre de séjour (AGDREF, II.E.3)", examples=["7812345678"])
    valid_from: date = Field(description="Début de validité du titre", examples=["2026-03-10"])
    valid_until: date = Field(
        description="Fin de validité du titre; the spouse's card has a durée identique to the worker's (II.E.2)",
        examples=["2029-03-10"],
    )
    fingerprints: bool = Field(
        description="Empreintes taken; false under the dispense temporaire d'enrôlement biométrique (II.E.3)",
        examples=[False, True],
    )
    agdref_observation: str | None = Field(
        default=None,
        description="Mention written in the AGDREF « observations » zone for a card produced without fingerprints "
        "(II.E.3); null when fingerprints were taken",
        examples=[CARD_EXAMPLE["agdref_observation"]],
    )
    agdref_number: str | None = Field(
        default=None,
        description="Numéro AGDREF of the holder's dossier, not the card's number: the monthly table "
        "of annex 2 lists these (II.E.3)",
        examples=["7500123456", None],
    )


class FamilyDocument(Model):
    role: Literal["spouse", "minor_child"] = Field(
        description="Member of the famille accompagnante (I.D): conjoint or enfant mineur",
        examples=["spouse", "minor_child"],
    )
    titre: Literal["vie_privee_et_familiale", "dcem", "dcem_droit_commun"] = Field(
        description="Document issued (II.E.2): the spouse's « vie privée et familiale » card; for a minor child the "
        "document de circulation pour étranger mineur (DCEM), in the single window or under ordinary law "
        "as the préfecture chose",
        examples=["vie_privee_et_familiale", "dcem"],
    )
    card: Card | None = Field(
        default=None, description="The spouse's card; null for a DCEM", examples=[SPOUSE_CARD_EXAMPLE]
    )
    valid_until: date | None = Field(
        default=None,
        description="Fin de validité of a DCEM issued in the single window: five years (D.321-20), ending "
        "earlier at the minor's majority, which the dossier does not carry; null for the spouse (see the card) "
        "and for a DCEM under ordinary law",
        examples=["2031-03-14", None],
    )


class TransmissionTitre(Message):
    """The préfecture has produced the card and sends it to the DT-OFII for hand-over
    (II.C.2, R.311-10); the family's documents travel with it."""

    TYPE = "prefecture.transmission_titre"
    SENDER, RECIPIENT, STEP = "prefecture", "ofii", Step.TRANSMISSION_TITRE_OFII
    produced_at: datetime = Field(
        description="Fabrication du titre by the préfecture (II.C.2)", examples=["2026-03-10T14:00:00+01:00"]
    )
    card: Card = Field(
        description="The worker's titre de séjour, sent to the DT-OFII for hand-over (II.C.2, R.311-10)",
        examples=[CARD_EXAMPLE],
    )
    family: list[FamilyDocument] = Field(
        default_factory=list,
        description="Documents of the famille accompagnante, handed over at the same time as the worker's card "
        "(I.D, II.E.2)",
        examples=[[FAMILY_DOCUMENT_EXAMPLE, {"role": "minor_child", "titre": "dcem", "card": None}]],
    )


class Recepisse(Message):
    """II.C.2: the préfecture cannot produce the card within two months of the complete dossier."""

    TYPE = "prefecture.recepisse"
    SENDER, RECIPIENT, STEP = "prefecture", "ofii", Step.RECEPISSE
    valid_until: date = Field(
        description="Fin de validité du récépissé de première demande de titre de séjour (II.C.2)",
        examples=["2026-07-23"],
    )
