"""The SMOE's handlers."""
from __future__ import annotations

from guichet.agency import Context
from schemas.actes import InstructionTerminee
from schemas.autorisation_travail import DecisionAutorisationTravail, TransmissionSmoe
from schemas.recours import DecisionRecours, ReexamenTermine, TransmissionRecours
from services.smoe import rules
from services.smoe.state import SmoeDossier


def transmission_smoe(msg: TransmissionSmoe, ctx: Context, d: SmoeDossier) -> None:
    """II.A.1: a dossier stamped 'guichet unique' is instructed within 10 days; one sent under
    ordinary law (I.E) is registered and instructed outside the single window."""
    if d.dossier is not None:
        return  # the same dossier forwarded twice: the instruction already runs
    d.dossier, d.unit, d.route = msg.dossier, msg.smoe, msg.route
    d.received_at = ctx.received_at
    if msg.route == "guichet_unique":
        d.deadline = rules.instruction_deadline(ctx.received_at)
        ctx.await_act("instruction", deadline=d.deadline, step="decision_autorisation_travail")


def instruction_terminee(msg: InstructionTerminee, ctx: Context, d: SmoeDossier) -> None:
    """II.A.1: after its examination the SMOE sends the documents back to the DT-OFII."""
    if d.decided or d.route != "guichet_unique":
        return
    ctx.close("instruction")
    d.favorable, reasons = rules.decide(msg.criteria)
    d.criteria, d.decided = msg.criteria, True
    tax = rules.employer_tax_eur(d.dossier) if d.favorable else None
    ctx.send(DecisionAutorisationTravail(favorable=d.favorable, criteria=msg.criteria, reasons=reasons,
                                         employer_tax_eur=tax), deadline=d.deadline)


def transmission_recours(msg: TransmissionRecours, ctx: Context, d: SmoeDossier) -> None:
    """2021 note: the SMOE instructs the recours gracieux against its refusal."""
    if d.favorable is not False or d.recours_received_at is not None:
        return
    d.recours_received_at = ctx.received_at
    ctx.await_act("reexamen", step="decision_recours")


def reexamen_termine(msg: ReexamenTermine, ctx: Context, d: SmoeDossier) -> None:
    if d.recours_decided:
        return
    ctx.close("reexamen")
    favorable, reasons = rules.decide(msg.criteria)
    d.recours_decided, d.favorable, d.criteria = True, favorable, msg.criteria
    tax = rules.employer_tax_eur(d.dossier) if favorable else None
    ctx.send(DecisionRecours(favorable=favorable, criteria=msg.criteria, reasons=reasons, employer_tax_eur=tax))


HANDLERS = {TransmissionSmoe: transmission_smoe, InstructionTerminee: instruction_terminee,
            TransmissionRecours: transmission_recours, ReexamenTermine: reexamen_termine}
