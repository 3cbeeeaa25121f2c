"""Reminders an agency sends itself for a time limit the circular sets on its own work."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from schemas.base import Message


class EcheanceRemise(Message):
    """II.D: one month after the first convocation, a card not handed over goes back."""

    TYPE = "ofii.echeance.remise_titre"
    SENDER, RECIPIENT = "ofii", "ofii"
    first_convocation_at: datetime = Field(
        description="Première convocation à la visite médicale (II.D): a month later, a card not handed over is "
        "sent back to the préfecture",
        examples=["2026-03-02T09:30:00+01:00"],
    )


class EcheanceProduction(Message):
    """II.C.2: two months after the complete dossier, a card not produced may call for a récépissé."""

    TYPE = "prefecture.echeance.production"
    SENDER, RECIPIENT = "prefecture", "prefecture"
    received_at: datetime = Field(
        description="Réception du dossier complet by the préfecture (II.C.2): two months later, a card not produced "
        "may call for a récépissé",
        examples=["2026-02-23T10:00:00+01:00"],
    )
