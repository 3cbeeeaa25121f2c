"""How the DT-OFII waits for a person's act: the task, its deadline, and what the dossier awaits.

Task names are constants: a handler opens and closes them by name, the simulated actors answer
them, and the deadline watch reports them; a name is never parsed back into data.
"""

from __future__ import annotations

from guichet.agency import Context
from schemas.autorisation_travail import InformationEmployeur
from services.ofii.state import OfiiDossier

TRANSMISSION_SMOE = "transmission_smoe"  # an agent stamps and forwards to the SMOE (II.A.1)
TRANSMISSION_CONSULAT = "transmission_consulat"  # ... to the consulate (II.A.1, II.B)
DEPOT_TITRE = "depot_titre"  # the employer sends the card dossier (II.C.1)
COMPLEMENTS_TITRE = "complements_titre"  # the missing documents of the card dossier (II.C.1)
RECOURS_GRACIEUX = "recours_gracieux"  # the employer may contest a refusal
DECISION_RECOURS = "decision_recours"  # ... and the SMOE or platform re-examines it
DECISION_VISA = "decision_visa"  # what the dossier awaits while the consulate decides
DECISION_AUTORISATION_TRAVAIL = "decision_autorisation_travail"  # ... while the SMOE decides (II.A.1)
# The worker's presence at the first and the second convocation to the medical visit (II.D).
PRESENTATION = {1: "presentation_convocation_1", 2: "presentation_convocation_2"}
CONVOCATION_NUMBER = {task: number for number, task in PRESENTATION.items()}
# What waits on the employer or the worker, not on an administration: its time limit passing is
# the person's delay, never an agency's breach (the deadline board and the list show it apart).
WAITS_ON_A_PERSON = frozenset({DEPOT_TITRE, COMPLEMENTS_TITRE, RECOURS_GRACIEUX, *PRESENTATION.values()})


def await_step(ctx: Context, d: OfiiDossier, task: str, deadline=None, watch: bool = True) -> None:
    d.waiting_for = task
    if deadline is not None:
        d.deadlines[task] = deadline
    ctx.await_act(task, deadline=deadline, watch=watch)


def inform_employer(ctx: Context, d: OfiiDossier, subject: str, detail: str = "") -> None:
    """The employer told (II.A.1, I.E, II.B), the step kept with what it was told of, so that the
    agent reading the dossier sees each information's subject."""
    ctx.send(InformationEmployeur(subject=subject, detail=detail))
    d.record(InformationEmployeur, ctx.now, subject=subject)
