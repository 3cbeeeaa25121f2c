"""What people do, entered on the bus by an agency's back-office (or by the simulated actors
that play them from a scenario's facts until a back-office does)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.autorisation_travail import Criteria
from schemas.base import Message


class TransmissionValidee(Message):
    """A DT-OFII agent has checked and stamped the dossier: the bus may forward it."""
    TYPE = "ofii.agent.transmission_validee"
    SENDER, RECIPIENT = "ofii", "ofii"
    transmission: Literal["transmission_smoe", "transmission_consulat"]


class InstructionTerminee(Message):
    """The SMOE agent has examined the three criteria (2021 note)."""
    TYPE = "smoe.agent.instruction_terminee"
    SENDER, RECIPIENT = "smoe", "smoe"
    criteria: Criteria


class DecisionConsul(Message):
    """The consul's decision on the long-stay visa (II.B)."""
    TYPE = "consulat.agent.decision_visa"
    SENDER, RECIPIENT = "consulat", "consulat"
    granted: bool
    validity_days: int = Field(default=365, ge=1, le=3650)
    reason: str | None = None


class TitreProduit(Message):
    """The préfecture's production of the card is finished (II.C)."""
    TYPE = "prefecture.agent.titre_produit"
    SENDER, RECIPIENT = "prefecture", "prefecture"
