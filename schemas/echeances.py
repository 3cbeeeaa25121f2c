"""Reminders an agency sends itself for a time limit the circular sets on its own work."""
from __future__ import annotations

from datetime import datetime

from schemas.base import Message


class EcheanceRemise(Message):
    """II.D: one month after the first convocation, a card not handed over goes back."""
    TYPE = "ofii.echeance.remise_titre"
    SENDER, RECIPIENT = "ofii", "ofii"
    first_convocation_at: datetime


class EcheanceProduction(Message):
    """II.C.2: two months after the complete dossier, a card not produced may call for a récépissé."""
    TYPE = "prefecture.echeance.production"
    SENDER, RECIPIENT = "prefecture", "prefecture"
    received_at: datetime
