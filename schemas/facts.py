"""What a simulation cannot decide by itself: how long each agency takes and what people do.

Carried with the filing (envelope field `facts`) so that the simulated actors of every agency can
play their part; a real back-office sends its acts instead. Defaults keep every step on time.
"""
from __future__ import annotations

from pydantic import Field

from schemas.base import Model


class Facts(Model):
    ofii_transmission_days: float = Field(default=2, ge=0, description="Days the DT-OFII takes to forward to the SMOE")
    smoe_instruction_days: float = Field(default=7, ge=0, description="Days the SMOE takes to decide")
    employer_compliant: bool = Field(default=True, description="The employer meets its legal obligations")
    remuneration_ok: bool = Field(default=True, description="The remuneration meets the conditions")
    employment_situation_ok: bool = Field(default=True, description="The employment situation allows the hire")
    recours_gracieux: bool = Field(default=False, description="After a refusal, the employer files a recours gracieux")
    recours_days: float = Field(default=15, ge=0, description="Days after the refusal the recours is filed")
    recours_favorable: bool = Field(default=False, description="The SMOE's re-examination grants the authorisation")
    ofii_consulat_hours: float = Field(default=24, ge=0, description="Hours the DT-OFII takes to forward to the consulate")
    visa_instruction_days: float = Field(default=10, ge=0, description="Days the consulate takes to decide")
    visa_granted: bool = True
    visa_validity_days: int = Field(default=365, ge=1, le=3650)
    arrival_days_after_visa: float = Field(default=15, ge=0)
    titre_deposit_days_after_arrival: float = Field(default=10, ge=0)
    titre_dossier_complete: bool = True
    titre_completion_days: float | None = Field(default=None, ge=0, description="null: the documents never come")
    prefecture_production_days: float = Field(default=30, ge=0)
    medical_abroad: bool = Field(default=False, description="The medical visit was done abroad by an OFII representation")
    medical_no_shows: int = Field(default=0, ge=0, le=2, description="Convocations the worker misses")
