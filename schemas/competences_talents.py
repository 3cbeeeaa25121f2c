"""II.A.2: 'compétences et talents', where the consulate decides and the DT-OFII receives the file."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from schemas.base import Message
from schemas.dossier import Dossier
from schemas.steps import Step

DOSSIER_EXAMPLE = {
    "regime": "circulaire-2012",
    "title": "competences_et_talents",
    "filed_on": "2026-01-05",
    "employment_department": "69",
    "residence_department": "69",
    "employer": {"siret": "55208131766522", "name": "Exemple SA"},
    "worker": {"surname": "DOE", "given_names": "Jane", "nationality": "IND"},
    "contract": {"kind": "cdi", "monthly_gross_salary_eur": 5200},
}


class DemandeCompetencesTalents(Message):
    """The worker applies for the card at the consulate, which may ask for the file in two copies;
    where the OFII has a representation abroad (RE-OFII) it instructs the application with the
    consulate (II.A.2). Nothing is deposited at the DT-OFII and no work authorisation is asked for."""

    TYPE = "travailleur.demande_competences_talents"
    SENDER, RECIPIENT, STEP = "travailleur", "consulat", Step.DEMANDE_COMPETENCES_TALENTS
    dossier: Dossier = Field(
        description="The application: the worker, the activity in France and the family", examples=[DOSSIER_EXAMPLE]
    )
    copies: int = Field(
        default=2, ge=1, le=2, description="Copies of the file the consulate asked for (II.A.2)", examples=[2]
    )


class DecisionCompetencesTalents(Message):
    """The consular authority alone decides on the card (R.315-7) and draws the decision up in two
    originals, one for the applicant with the visa 'CESEDA L.315-1' (II.A.2)."""

    TYPE = "consulat.decision_competences_talents"
    SENDER, RECIPIENT, STEP = "consulat", "ofii", Step.DECISION_COMPETENCES_TALENTS
    favorable: bool = Field(
        description="Décision attributive de la carte « compétences et talents », which the consular authority "
        "alone takes (R.315-7, II.A.2, II.C.1)",
        examples=[True, False],
    )
    originals: int = Field(
        default=2,
        description="The decision is established in two originals (II.A.2): one for the applicant with the visa "
        "« CESEDA L.315-1 », the other for the DT-OFII",
        examples=[2],
    )
    reason: str | None = Field(
        default=None,
        description="Motif of an unfavourable decision; null when favourable",
        examples=["refus consulaire"],
    )
    dossier: Dossier | None = Field(
        default=None,
        description="The application the decision answers: the DT-OFII, which received nothing "
        "before, follows the dossier from it",
        examples=[DOSSIER_EXAMPLE],
    )
    applied_at: datetime | None = Field(
        default=None, description="When the worker applied at the consulate", examples=["2026-01-05T09:00:00+01:00"]
    )

    VERSION = 2

    @staticmethod
    def upcast_v1_v2(payload: dict) -> dict:
        """Version 1 answered a dossier the DT-OFII had itself sent to the consulate: it already held it."""
        return {**payload, "dossier": None, "applied_at": None}


class TransmissionDossierOfii(Message):
    """The second original goes, with two copies of the complete file, to the DT-OFII of the main
    place of activity (II.A.2)."""

    TYPE = "consulat.transmission_dossier_ofii"
    SENDER, RECIPIENT, STEP = "consulat", "ofii", Step.TRANSMISSION_DOSSIER_OFII
    copies: int = Field(
        default=2,
        ge=1,
        description="Exemplaires du dossier complet sent with the second original to the DT-OFII of the main place "
        "of professional activity (II.A.2)",
        examples=[2],
    )


class CopieMinistere(Message):
    """The DT-OFII sends one copy to the ministry's bureau of professional immigration (II.A.2)."""

    TYPE = "ofii.copie_ministere"
    SENDER, RECIPIENT, STEP = "ofii", "ministere", Step.COPIE_MINISTERE
    bureau: str = Field(
        default="Bureau de l'immigration professionnelle, ministère de l'intérieur",
        description="Destinataire: the ministry's bureau de l'immigration professionnelle (II.A.2; address in "
        "annexe 1, 4)",
        examples=["Bureau de l'immigration professionnelle, ministère de l'intérieur"],
    )
