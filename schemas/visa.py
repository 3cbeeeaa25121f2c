"""II.A.1 and II.B: the dossier at the consulate and the long-stay visa."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from schemas.autorisation_travail import Criteria
from schemas.base import Message
from schemas.dossier import Dossier, Family


class TransmissionConsulat(Message):
    """The DT-OFII sends the dossier, with the family's documents, to the consulate of the
    worker's residence within 48 hours, stamped 'guichet unique' (II.A.1, II.B)."""
    TYPE = "ofii.transmission_consulat"
    SENDER, RECIPIENT, STEP = "ofii", "consulat", "transmission_consulat"
    dossier: Dossier
    family: Family
    stamp: Literal["guichet unique"] = "guichet unique"
    work_authorisation: Criteria | None = Field(
        default=None, description="The SMOE's favourable findings, when an authorisation was needed")


class DecisionVisa(Message):
    """The consulate decides on the worker's visa and the family's, within 15 days (II.B);
    the DT-OFII is told so that it can receive the card dossier on arrival."""
    TYPE = "consulat.decision_visa"
    SENDER, RECIPIENT, STEP = "consulat", "ofii", "decision_visa"
    granted: bool
    visa: str | None = Field(default=None, description="The visa's mention, e.g. 'VLS-TS salarié en mission'")
    valid_from: date | None = None
    valid_until: date | None = None
    family: Family = Family()
    reason: str | None = None
