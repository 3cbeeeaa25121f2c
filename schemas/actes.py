"""What people do, entered on the bus by an agency's back-office (or by the simulated actors
that play them from a scenario's facts until a back-office does)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.autorisation_travail import CRITERIA_EXAMPLE, Criteria
from schemas.base import Message


class TransmissionValidee(Message):
    """A DT-OFII agent has checked and stamped the dossier: the bus may forward it."""

    TYPE = "ofii.agent.transmission_validee"
    SENDER, RECIPIENT = "ofii", "ofii"
    transmission: Literal["transmission_smoe", "transmission_consulat"] = Field(
        description="La transmission the agent validated: to the SMOE within 5 days, or to the consulate within "
        "48 hours (II.A.1)",
        examples=["transmission_smoe", "transmission_consulat"],
    )


class InstructionTerminee(Message):
    """The SMOE agent has examined the three criteria (2021 note)."""

    TYPE = "smoe.agent.instruction_terminee"
    SENDER, RECIPIENT = "smoe", "smoe"
    criteria: Criteria = Field(
        description="Constats de l'agent on the three criteria (note 2021)", examples=[CRITERIA_EXAMPLE]
    )


class DecisionConsul(Message):
    """The consul's decision on the long-stay visa (II.B)."""

    TYPE = "consulat.agent.decision_visa"
    SENDER, RECIPIENT = "consulat", "consulat"
    granted: bool = Field(description="Visa de long séjour accordé (II.B)", examples=[True, False])
    validity_days: int = Field(
        default=365, ge=1, le=3650, description="Durée de validité du visa, in days", examples=[365, 90]
    )
    reason: str | None = Field(
        default=None, description="Motif du refus de visa; null when the visa is granted", examples=["refus consulaire"]
    )


class TitreProduit(Message):
    """The préfecture's production of the card is finished (II.C)."""

    TYPE = "prefecture.agent.titre_produit"
    SENDER, RECIPIENT = "prefecture", "prefecture"
