"""The four agencies by name."""
from __future__ import annotations

from guichet.agency import AgencyDefinition


def definitions() -> dict[str, AgencyDefinition]:
    from services.consulat.service import DEFINITION as consulat
    from services.ofii.service import DEFINITION as ofii
    from services.prefecture.service import DEFINITION as prefecture
    from services.smoe.service import DEFINITION as smoe
    return {d.name: d for d in (ofii, smoe, consulat, prefecture)}
