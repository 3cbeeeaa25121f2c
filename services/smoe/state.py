from __future__ import annotations

from datetime import datetime

from schemas.autorisation_travail import Criteria
from services.agency_state import AgencyState


class SmoeDossier(AgencyState):
    unit: str | None = None
    route: str | None = None
    online: bool = False  # 2021: filed online with the platform, not sent by the DT-OFII
    received_at: datetime | None = None
    deadline: datetime | None = None
    decided: bool = False
    favorable: bool | None = None
    criteria: Criteria | None = None
    recours_received_at: datetime | None = None
    recours_decided: bool = False
