"""II.D: the medical visit and the hand-over of the card at the OFII."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.base import Message
from schemas.steps import Step


class ConvocationVisiteMedicale(Message):
    """The OFII convokes the worker to the medical visit, where the card is handed over (II.D)."""

    TYPE = "ofii.convocation_visite_medicale"
    SENDER, RECIPIENT, STEP = "ofii", "travailleur", Step.CONVOCATION_VISITE_MEDICALE
    appointment_at: datetime = Field(
        description="Rendez-vous de la visite médicale OFII (II.D), launched together with the production of the "
        "card so that it is handed over at the visit",
        examples=["2026-03-02T09:30:00+01:00"],
    )
    number: Literal[1] = Field(default=1, description="Première convocation (II.D)", examples=[1])
    convoked: list[Literal["worker", "spouse", "minor_child"]] = Field(
        default=["worker"],
        description="Who is convoked, together (I.D: the famille accompagnante's convocation is simultaneous with the "
        "worker's; II.D exempts the carte bleue holder, not the family)",
        examples=[["worker", "spouse", "minor_child"], ["spouse"]],
    )

    VERSION = 2

    @staticmethod
    def upcast_v1_v2(payload: dict) -> dict:
        """Version 1 convoked the worker alone."""
        return {**payload, "convoked": ["worker"]}


class SecondeConvocation(Message):
    """The worker did not come: the OFII convokes a second time (II.D)."""

    TYPE = "ofii.seconde_convocation"
    SENDER, RECIPIENT, STEP = "ofii", "travailleur", Step.SECONDE_CONVOCATION
    appointment_at: datetime = Field(
        description="Rendez-vous of the second convocation to the medical visit (II.D)",
        examples=["2026-03-16T09:30:00+01:00"],
    )
    number: Literal[2] = Field(default=2, description="Seconde convocation (II.D)", examples=[2])


class PresentationConvocation(Message):
    """Whether the worker came to a convocation, as the OFII's reception records it."""

    TYPE = "travailleur.presentation_convocation"
    SENDER, RECIPIENT = "travailleur", "ofii"
    number: int = Field(ge=1, le=2, description="The convocation: 1, the first; 2, the second (II.D)", examples=[1, 2])
    present: bool = Field(description="The worker came on the date fixed (II.D)", examples=[True, False])


class RemiseTitre(Message):
    TYPE = "ofii.remise_titre"
    SENDER, RECIPIENT, STEP = "ofii", "travailleur", Step.REMISE_TITRE
    card_number: str = Field(
        description="Numéro du titre de séjour handed over at the medical visit (II.D)", examples=["7812345678"]
    )


class RenvoiTitrePrefecture(Message):
    """A month after the first convocation, a card not handed over goes back to the préfecture,
    where the worker collects it under ordinary law (II.D)."""

    TYPE = "ofii.renvoi_titre_prefecture"
    SENDER, RECIPIENT, STEP = "ofii", "prefecture", Step.RENVOI_TITRE_PREFECTURE
    card_number: str = Field(
        description="Numéro du titre de séjour sent back to the préfecture, where the worker collects it (retrait "
        "selon les modalités de droit commun, II.D)",
        examples=["7812345678"],
    )
