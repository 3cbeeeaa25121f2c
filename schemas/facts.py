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

    ofii_transmission_days: Days = Field(default=2, description="Days the DT-OFII takes to forward to the SMOE")
    smoe_instruction_days: Days = Field(default=7, description="Days the SMOE takes to decide")
    employer_compliant: bool = Field(default=True, description="The employer meets its legal obligations")
    remuneration_ok: bool = Field(default=True, description="The remuneration meets the conditions")
    employment_situation_ok: bool = Field(default=True, description="The employment situation allows the hire")
    recours_gracieux: bool = Field(default=False, description="After a refusal, the employer files a recours gracieux")
    recours_days: Days = Field(default=15, description="Days after the refusal the recours is filed")
    recours_favorable: bool = Field(default=False, description="The SMOE's re-examination grants the authorisation")
    ofii_consulat_hours: Hours = Field(default=24, description="Hours the DT-OFII takes to forward to the consulate")
    visa_instruction_days: Days = Field(default=10, description="Days the consulate takes to decide")
    visa_granted: bool = True
    visa_validity_days: int = Field(default=365, ge=1, le=MAX_DAYS)
    arrival_days_after_visa: Days = Field(default=15)
    titre_deposit_days_after_arrival: Days = Field(default=10)
    titre_dossier_complete: bool = True
    titre_completion_days: Days | None = Field(default=None, description="null: the documents never come")
    prefecture_production_days: Days = Field(default=30)
    medical_abroad: bool = Field(default=False, description="The medical visit was done abroad by an OFII representation")
    medical_no_shows: int = Field(default=0, ge=0, le=2, description="Convocations the worker misses")

    @field_validator("titre_completion_days")
    @classmethod
    def completion_only_when_incomplete(cls, days: float | None, info: ValidationInfo) -> float | None:
        if days is not None and info.data.get("titre_dossier_complete", True):
            raise ValueError("a completion delay applies only to an incomplete dossier "
                             "(titre_dossier_complete: false)")
        return days
