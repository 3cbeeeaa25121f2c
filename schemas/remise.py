"""II.D: the medical visit and the hand-over of the card at the OFII."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.base import Message


class ConvocationVisiteMedicale(Message):
    """The OFII convokes the worker to the medical visit, where the card is handed over (II.D)."""
    TYPE = "ofii.convocation_visite_medicale"
    SENDER, RECIPIENT, STEP = "ofii", "travailleur", "convocation_visite_medicale"
    appointment_at: datetime
    number: Literal[1] = 1


class SecondeConvocation(Message):
    """The worker did not come: the OFII convokes a second time (II.D)."""
    TYPE = "ofii.seconde_convocation"
    SENDER, RECIPIENT, STEP = "ofii", "travailleur", "seconde_convocation"
    appointment_at: datetime
    number: Literal[2] = 2


class PresentationConvocation(Message):
    """Whether the worker came to a convocation, as the OFII's reception records it."""
    TYPE = "travailleur.presentation_convocation"
    SENDER, RECIPIENT = "travailleur", "ofii"
    number: int = Field(ge=1, le=2)
    present: bool


class RemiseTitre(Message):
    TYPE = "ofii.remise_titre"
    SENDER, RECIPIENT, STEP = "ofii", "travailleur", "remise_titre"
    card_number: str


class RenvoiTitrePrefecture(Message):
    """A month after the first convocation, a card not handed over goes back to the préfecture,
    where the worker collects it under ordinary law (II.D)."""
    TYPE = "ofii.renvoi_titre_prefecture"
    SENDER, RECIPIENT, STEP = "ofii", "prefecture", "renvoi_titre_prefecture"
    card_number: str
