"""What every agency keeps of a dossier; each agency's state model adds its own fields."""

from __future__ import annotations

from pydantic import BaseModel, Field

from schemas.dossier import Dossier


class AgencyState(BaseModel):
    dossier_id: str
    dossier: Dossier | None = None
    facts: dict | None = Field(default=None, description="The scenario facts the simulated people follow")
    opened_by: str | None = Field(
        default=None,
        description="The message that opened the dossier here: its type and the digest of its "
        "content, by which the same filing sent again under a new id is recognised",
    )
