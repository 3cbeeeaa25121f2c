"""What the SMOE (since 2021 the platform) lets in, and at which step of a dossier (II.A.1, 2021
notes). The runtime asks before any handler runs (services/state_machine.py)."""

from __future__ import annotations

from schemas.actes import InstructionTerminee
from schemas.autorisation_travail import TransmissionSmoe
from schemas.plateforme import DemandeAutorisationTravailEnLigne
from schemas.recours import RecoursGracieuxPlateforme, ReexamenTermine, TransmissionRecours
from services.smoe.state import SmoeDossier
from services.state_machine import Table, at, opens


def where(d: SmoeDossier) -> str:
    if d.route != "guichet_unique":
        return f"outside the single window ({d.route}), instructed under ordinary law"
    if d.recours_received_at is not None:
        return "re-examined after a recours, decided" if d.recours_decided else "under re-examination after a recours"
    if d.decided:
        return "decided (" + ("favourable" if d.favorable else "refused") + ")"
    return "under instruction"


TABLE = Table(
    "smoe",
    where=where,
    rules={
        TransmissionSmoe: opens(
            "II.A.1: the DT-OFII forwards the stamped request; I.E: unstamped outside the single window"
        ),
        DemandeAutorisationTravailEnLigne: opens("2021 notes: the employer files the request online with the platform"),
        InstructionTerminee: at(
            lambda msg, d: d.route == "guichet_unique" and not d.decided,
            "while a request of the single window is under instruction",
            "II.A.1, 2021 note",
        ),
        TransmissionRecours: at(
            lambda msg, d: not d.online and d.favorable is False and d.recours_received_at is None,
            "after a SMOE's refusal, once",
            "the recours gracieux through the single window",
        ),
        RecoursGracieuxPlateforme: at(
            lambda msg, d: d.online and d.favorable is False and d.recours_received_at is None,
            "after a platform's refusal of a request filed online, once",
            "2021 note: the platform instructs the recours gracieux",
        ),
        ReexamenTermine: at(
            lambda msg, d: d.recours_received_at is not None and not d.recours_decided,
            "while a recours is under re-examination",
            "2021 note: the re-examination",
        ),
    },
)
