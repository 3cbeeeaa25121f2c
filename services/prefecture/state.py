from __future__ import annotations

from datetime import date, datetime

from schemas.dossier import Family
from schemas.titre import Card, FamilyDocument
from services.agency_state import AgencyState


class PrefectureDossier(AgencyState):
    department: str | None = None
    family: Family | None = None
    card_kind: str | None = None
    visa_valid_until: date | None = None
    received_at: datetime | None = None
    deposit_late: bool = False
    completed_late: bool = False
    biometric_dispense: bool = False
    decided_by_consulate: bool = False
    produced_at: datetime | None = None
    card: Card | None = None
    family_documents: list[FamilyDocument] = []
    recepisse_until: date | None = None
    card_returned: bool = False
