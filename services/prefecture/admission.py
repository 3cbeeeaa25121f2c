"""What the préfecture lets in, and at which step of a dossier (II.C, II.D). The runtime asks
before any handler runs (services/state_machine.py)."""

from __future__ import annotations

from schemas.actes import TitreProduit
from schemas.echeances import EcheanceProduction
from schemas.remise import RenvoiTitrePrefecture
from schemas.titre import TransmissionPrefecture
from services.prefecture.state import PrefectureDossier
from services.state_machine import Table, always, at, opens


def where(d: PrefectureDossier) -> str:
    if d.card_returned:
        return "card sent back by the DT-OFII"
    return "card produced" if d.card is not None else "card in production"


TABLE = Table(
    "prefecture",
    where=where,
    rules={
        TransmissionPrefecture: opens("II.C.1: the DT-OFII sends the complete dossier, stamped 'guichet unique'"),
        TitreProduit: at(lambda msg, d: d.card is None, "while the card is in production, once", "II.C.2"),
        # Its own reminder at two months: the handler sees whether a récépissé is still due.
        EcheanceProduction: at(always, "while the dossier is held", "II.C.2"),
        RenvoiTitrePrefecture: at(
            lambda msg, d: d.card is not None and not d.card_returned,
            "once the card was produced and sent for hand-over",
            "II.D",
        ),
    },
)
