from __future__ import annotations

from datetime import datetime

from schemas.dossier import Family
from services.agency_state import AgencyState


class ConsulatDossier(AgencyState):
    family: Family | None = None
    stamp: str | None = None
    received_at: datetime | None = None
    deadline: datetime | None = None
    decided: bool = False
    granted: bool | None = None
