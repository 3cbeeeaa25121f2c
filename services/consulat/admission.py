"""What the consulate lets in, and at which step of a dossier (II.A.2, II.B). The runtime asks
before any handler runs (services/state_machine.py)."""

from __future__ import annotations

from schemas.actes import DecisionConsul
from schemas.competences_talents import DemandeCompetencesTalents
from schemas.visa import TransmissionConsulat
from services.consulat.state import ConsulatDossier
from services.state_machine import Table, at, opens


def where(d: ConsulatDossier) -> str:
    if d.decided:
        return "decided (" + ("visa granted" if d.granted else "visa refused") + ")"
    return "awaiting the consul's decision"


TABLE = Table(
    "consulat",
    where=where,
    rules={
        TransmissionConsulat: opens("II.A.1, II.B: the DT-OFII sends the dossier stamped 'guichet unique'"),
        DemandeCompetencesTalents: opens("II.A.2: the worker applies at the consulate"),
        DecisionConsul: at(lambda msg, d: not d.decided, "while the visa is to be decided, once", "II.B, R.315-7"),
    },
)
