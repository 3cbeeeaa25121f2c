"""What a simulation cannot decide by itself: how long each agency takes and what people do.

Carried with the filing (envelope field `facts`) so that the simulated actors of every agency can
play their part; a real back-office sends its acts instead. Defaults keep every step on time.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from schemas.base import Model

# Every duration is a finite number of days within ten years: the dates it leads to stay in the
# calendar, and no dossier is lost to an overflow halfway through its flow.
MAX_DAYS = 3650
Days = Annotated[float, Field(ge=0, le=MAX_DAYS, allow_inf_nan=False)]
Hours = Annotated[float, Field(ge=0, le=MAX_DAYS * 24, allow_inf_nan=False)]


class Facts(Model):
    # "5200" or "yes" is not read as a number or a boolean: a scenario says what it means.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    ofii_transmission_days: Days = Field(
        default=2,
        description="Days the DT-OFII takes to forward to the SMOE (délai de 5 jours, II.A.1)",
        examples=[2, 6.5],
    )
    smoe_instruction_days: Days = Field(
        default=7, description="Days the SMOE takes to decide (délai de 10 jours, II.A.1)", examples=[7, 12]
    )
    employer_compliant: bool = Field(
        default=True,
        description="The employer meets its legal obligations (respect des obligations légales, note 2021)",
        examples=[True, False],
    )
    remuneration_ok: bool = Field(
        default=True,
        description="The remuneration meets the conditions (conditions de rémunération, note 2021)",
        examples=[True, False],
    )
    employment_situation_ok: bool = Field(
        default=True,
        description="The employment situation allows the hire (situation de l'emploi, note 2021)",
        examples=[True, False],
    )
    recours_gracieux: bool = Field(
        default=False,
        description="After a refusal, the employer files a recours gracieux (note 2021)",
        examples=[False, True],
    )
    recours_days: Days = Field(
        default=10, description="Days the SMOE or platform takes to re-examine the recours gracieux", examples=[10, 30]
    )
    recours_favorable: bool = Field(
        default=False,
        description="The SMOE's re-examination of the recours gracieux grants the authorisation",
        examples=[False, True],
    )
    ofii_consulat_hours: Hours = Field(
        default=24,
        description="Hours the DT-OFII takes to forward to the consulate (délai de 48 heures, II.A.1)",
        examples=[24, 60],
    )
    visa_instruction_days: Days = Field(
        default=10, description="Days the consulate takes to decide (visa sous 15 jours, II.B)", examples=[10, 20]
    )
    visa_granted: bool = Field(
        default=True, description="The consulate grants the visa de long séjour (II.B)", examples=[True, False]
    )
    visa_validity_days: int = Field(
        default=365, ge=1, le=MAX_DAYS, description="Validity of the visa, in days", examples=[365, 90]
    )
    arrival_days_after_visa: Days = Field(
        default=15, description="Days between the visa and the worker's arrival in France", examples=[15, 40]
    )
    titre_deposit_days_after_arrival: Days = Field(
        default=10,
        description="Days after arrival the employer sends the card dossier to the DT-OFII (sans tarder, II.C.1)",
        examples=[10, 30],
    )
    titre_dossier_complete: bool = Field(
        default=True,
        description="The card dossier matches the préfecture's liste unique on deposit (II.C.1); false: one "
        "document is missing, and titre_completion_days may say when it comes",
        examples=[False],
    )
    titre_completion_days: Days | None = Field(
        default=None,
        description="Days the missing documents take to come (dossier incomplet du fait du demandeur, II.C.2); "
        "null: the documents never come",
        examples=[5, 20],
    )
    prefecture_production_days: Days = Field(
        default=30,
        description="Days the préfecture takes to produce the card (récépissé possible after two months, II.C.2)",
        examples=[30, 70],
    )
    medical_abroad: bool = Field(
        default=False,
        description="The medical visit was done abroad by an OFII representation (RE-OFII, II.D)",
        examples=[False, True],
    )
    medical_no_shows: int = Field(
        default=0, ge=0, le=2, description="Convocations to the medical visit the worker misses (II.D)", examples=[0, 1]
    )

    @field_validator("titre_completion_days")
    @classmethod
    def completion_only_when_incomplete(cls, days: float | None, info: ValidationInfo) -> float | None:
        if days is not None and info.data.get("titre_dossier_complete", True):
            raise ValueError("a completion delay applies only to an incomplete dossier (titre_dossier_complete: false)")
        return days
