"""What a simulation cannot decide by itself: how long each agency takes and what people do.

Carried with the filing (envelope field `facts`) so that the simulated actors of every agency can
play their part; a real back-office sends its acts instead. Defaults keep every step on time.
"""
from __future__ import annotations

from pydantic import Field

from schemas.base import Model


class Facts(Model):
    ofii_transmission_days: float = Field(
        default=2, ge=0, description="Days the DT-OFII takes to forward to the SMOE (délai de 5 jours, II.A.1)",
        examples=[2, 6.5])
    smoe_instruction_days: float = Field(
        default=7, ge=0, description="Days the SMOE takes to decide (délai de 10 jours, II.A.1)", examples=[7, 12])
    employer_compliant: bool = Field(
        default=True,
        description="The employer meets its legal obligations (respect des obligations légales, note 2021)",
        examples=[True, False])
    remuneration_ok: bool = Field(
        default=True, description="The remuneration meets the conditions (conditions de rémunération, note 2021)",
        examples=[True, False])
    employment_situation_ok: bool = Field(
        default=True, description="The employment situation allows the hire (situation de l'emploi, note 2021)",
        examples=[True, False])
    recours_gracieux: bool = Field(
        default=False, description="After a refusal, the employer files a recours gracieux (note 2021)",
        examples=[False, True])
    recours_days: float = Field(default=15, ge=0, description="Days after the refusal the recours is filed",
                                examples=[15, 30])
    recours_favorable: bool = Field(
        default=False, description="The SMOE's re-examination of the recours gracieux grants the authorisation",
        examples=[False, True])
    ofii_consulat_hours: float = Field(
        default=24, ge=0,
        description="Hours the DT-OFII takes to forward to the consulate (délai de 48 heures, II.A.1)",
        examples=[24, 60])
    visa_instruction_days: float = Field(
        default=10, ge=0, description="Days the consulate takes to decide (visa sous 15 jours, II.B)",
        examples=[10, 20])
    visa_granted: bool = Field(default=True, description="The consulate grants the visa de long séjour (II.B)",
                               examples=[True, False])
    visa_validity_days: int = Field(default=365, ge=1, le=3650, description="Validity of the visa, in days",
                                    examples=[365, 90])
    arrival_days_after_visa: float = Field(
        default=15, ge=0, description="Days between the visa and the worker's arrival in France", examples=[15, 40])
    titre_deposit_days_after_arrival: float = Field(
        default=10, ge=0,
        description="Days after arrival the employer sends the card dossier to the DT-OFII (sans tarder, II.C.1)",
        examples=[10, 30])
    titre_dossier_complete: bool = Field(
        default=True,
        description="The card dossier matches the préfecture's liste unique on deposit (II.C.1); false: one "
                    "document is missing",
        examples=[True, False])
    titre_completion_days: float | None = Field(
        default=None, ge=0,
        description="Days the missing documents take to come (dossier incomplet du fait du demandeur, II.C.2); "
                    "null: the documents never come",
        examples=[5, 20])
    prefecture_production_days: float = Field(
        default=30, ge=0,
        description="Days the préfecture takes to produce the card (récépissé possible after two months, II.C.2)",
        examples=[30, 70])
    medical_abroad: bool = Field(
        default=False, description="The medical visit was done abroad by an OFII representation (RE-OFII, II.D)",
        examples=[False, True])
    medical_no_shows: int = Field(
        default=0, ge=0, le=2, description="Convocations to the medical visit the worker misses (II.D)",
        examples=[0, 1])
