from __future__ import annotations

from datetime import datetime

from services.agency_state import AgencyState
from schemas.dossier import Family


class ConsulatDossier(AgencyState):
    family: Family | None = None
    stamp: str | None = None
    received_at: datetime | None = None
    deadline: datetime | None = None
    decided: bool = False
    granted: bool | None = None
