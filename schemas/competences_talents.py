"""II.A.2: 'compétences et talents', where the consulate decides and the DT-OFII receives the file."""
from __future__ import annotations

from pydantic import Field

from schemas.base import Message


class DecisionCompetencesTalents(Message):
    """The consular authority alone decides on the card (R.315-7) and draws the decision up in two
    originals, one for the applicant with the visa 'CESEDA L.315-1' (II.A.2)."""
    TYPE = "consulat.decision_competences_talents"
    SENDER, RECIPIENT, STEP = "consulat", "ofii", "decision_competences_talents"
    favorable: bool = Field(
        description="Décision attributive de la carte « compétences et talents », which the consular authority "
                    "alone takes (R.315-7, II.A.2, II.C.1)",
        examples=[True, False])
    originals: int = Field(
        default=2,
        description="The decision is established in two originals (II.A.2): one for the applicant with the visa "
                    "« CESEDA L.315-1 », the other for the DT-OFII",
        examples=[2])
    reason: str | None = Field(default=None, description="Motif of an unfavourable decision; null when favourable",
                               examples=["refus consulaire"])


class TransmissionDossierOfii(Message):
    """The second original goes, with two copies of the complete file, to the DT-OFII of the main
    place of activity (II.A.2)."""
    TYPE = "consulat.transmission_dossier_ofii"
    SENDER, RECIPIENT, STEP = "consulat", "ofii", "transmission_dossier_ofii"
    copies: int = Field(
        default=2, ge=1,
        description="Exemplaires du dossier complet sent with the second original to the DT-OFII of the main place "
                    "of professional activity (II.A.2)",
        examples=[2])


class CopieMinistere(Message):
    """The DT-OFII sends one copy to the ministry's bureau of professional immigration (II.A.2)."""
    TYPE = "ofii.copie_ministere"
    SENDER, RECIPIENT, STEP = "ofii", "ministere", "copie_ministere"
    bureau: str = Field(
        default="Bureau de l'immigration professionnelle, ministère de l'intérieur",
        description="Destinataire: the ministry's bureau de l'immigration professionnelle (II.A.2; address in "
                    "annexe 1, 4)",
        examples=["Bureau de l'immigration professionnelle, ministère de l'intérieur"])
