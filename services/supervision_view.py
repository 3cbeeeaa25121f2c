"""How the DT-OFII describes a dossier to the supervision service, in its audit copies: the single
window sees every step, so its description is what the console shows (guichet/audit_copy.py).

What it gives, and why; nothing else of the dossier leaves the register:
- `projection`: the dossier object of the scenario contract (services/views.py): title, route,
  outcome, services, steps with their deadlines, alerts, the card's number and AGDREF number, the
  employer's name and SIRET (a firm). It holds no person's name, date of birth, passport number or
  address.
- `siret`, `departement`, `filed_at`: what operators filter and search by (the employer is a
  firm: its SIRET is not personal data).
- `personal`: the worker's surname, given names and nationality, which an agent (the console's
  `agent` role, never `lecture`) needs to confirm who is on the telephone. Not the date of birth,
  the passport number nor the address abroad: no operator's task needs them.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from guichet.registers.instants import utc_text
from guichet.timeutil import PARIS
from services.directory import Directory
from services.ofii.state import OfiiDossier
from services.views import dossier_view


def supervision_view(state: dict[str, Any], directory: Directory) -> dict[str, Any]:
    d = OfiiDossier.model_validate(state)
    filed = d.dossier
    return {
        "projection": dossier_view(state, directory),
        "siret": filed.employer.siret if filed else None,
        "departement": filed.employment_department if filed else None,
        "filed_at": utc_text(datetime.combine(filed.filed_on, time(0), PARIS)) if filed else None,
        "personal": (
            {
                "surname": filed.worker.surname,
                "given_names": filed.worker.given_names,
                "nationality": filed.worker.nationality,
            }
            if filed
            else None
        ),
    }
