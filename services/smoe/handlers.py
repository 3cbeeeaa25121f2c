"""The SMOE's handlers."""

from __future__ import annotations

from guichet.agency import Context
from schemas.actes import InstructionTerminee
from schemas.autorisation_travail import DecisionAutorisationTravail, TransmissionSmoe
from schemas.plateforme import (
    SECURED_AUTHORISATION,
    AccuseDepot,
    DemandeAutorisationTravailEnLigne,
    InformationOfii,
)
from schemas.recours import DecisionRecours, RecoursGracieuxPlateforme, ReexamenTermine, TransmissionRecours
from services import single_window
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
        ctx.await_act(rules.INSTRUCTION_TASK, deadline=d.deadline, step="decision_autorisation_travail")


def demande_en_ligne(msg: DemandeAutorisationTravailEnLigne, ctx: Context, d: SmoeDossier) -> None:
    """2021 notes: the employer files online with the platform, which confirms the deposit by e-mail
    and lets the OFII know; a request of the single window is instructed within 10 days (II.A.1),
    the platform having taken over the SMOE's instruction."""
    if d.dossier is not None:
        return  # the same request filed twice: the instruction already runs
    d.dossier, d.online, d.received_at = msg.dossier, True, ctx.received_at
    d.unit = rules.competent_platform(msg.dossier, ctx.reference)
    d.route = single_window.route(msg.dossier, ctx.reference)[0]
    ctx.send(AccuseDepot(platform=d.unit, deposited_at=ctx.received_at))
    ctx.send(
        InformationOfii(dossier=msg.dossier, platform=d.unit, deposited_at=ctx.received_at, acknowledged_at=ctx.now)
    )
    if d.route == "guichet_unique":
        d.deadline = rules.instruction_deadline(ctx.received_at)
        ctx.await_act(rules.INSTRUCTION_TASK, deadline=d.deadline, step="decision_autorisation_travail")


def _send_secured_authorisation(ctx: Context, d: SmoeDossier) -> list[str]:
    """2021 note: after a favourable instruction of an online request, the employer and the
    beneficiary each receive the secured authorisation by e-mail."""
    if not d.online:
        return []
    number = rules.authorisation_number(d.dossier.employment_department, d.dossier_id)
    for cls in SECURED_AUTHORISATION.values():
        ctx.send(cls(authorisation_number=number, platform=d.unit, granted_at=ctx.now))
    return list(SECURED_AUTHORISATION)


def instruction_terminee(msg: InstructionTerminee, ctx: Context, d: SmoeDossier) -> None:
    """II.A.1: after its examination the SMOE sends the documents back to the DT-OFII."""
    if d.decided or d.route != "guichet_unique":
        return
    ctx.close(rules.INSTRUCTION_TASK)
    d.favorable, reasons = rules.decide(msg.criteria)
    d.criteria, d.decided = msg.criteria, True
    tax = rules.employer_tax_eur(d.dossier) if d.favorable else None
    sent_to = _send_secured_authorisation(ctx, d) if d.favorable else []
    if d.online and not d.favorable:
        # 2021 note: the platform instructs the recours gracieux the employer may file with it.
        ctx.await_act(rules.RECOURS_TASK, deadline=rules.recours_deadline(ctx.now), watch=False)
    ctx.send(
        DecisionAutorisationTravail(
            favorable=d.favorable,
            criteria=msg.criteria,
            reasons=reasons,
            employer_tax_eur=tax,
            secured_authorisation_sent_to=sent_to,
        ),
        deadline=d.deadline,
    )


def transmission_recours(msg: TransmissionRecours, ctx: Context, d: SmoeDossier) -> None:
    """The SMOE re-examines its refusal on the recours gracieux the single window forwards."""
    _re_examine(ctx, d)


def recours_gracieux_plateforme(msg: RecoursGracieuxPlateforme, ctx: Context, d: SmoeDossier) -> None:
    """2021 note: the platform instructs the recours gracieux the employer files with it. Under the
    circular the recours travels through the DT-OFII (transmission_recours): one filed directly with
    the SMOE, or on a dossier it did not refuse, changes nothing."""
    if not d.online:
        return
    ctx.close(rules.RECOURS_TASK)
    _re_examine(ctx, d)


def _re_examine(ctx: Context, d: SmoeDossier) -> None:
    if d.favorable is not False or d.recours_received_at is not None:
        return
    d.recours_received_at = ctx.received_at
    ctx.await_act(rules.REEXAMEN_TASK, step="decision_recours")


def reexamen_termine(msg: ReexamenTermine, ctx: Context, d: SmoeDossier) -> None:
    if d.recours_decided:
        return
    ctx.close(rules.REEXAMEN_TASK)
    favorable, reasons = rules.decide(msg.criteria)
    d.recours_decided, d.favorable, d.criteria = True, favorable, msg.criteria
    tax = rules.employer_tax_eur(d.dossier) if favorable else None
    sent_to = _send_secured_authorisation(ctx, d) if favorable else []
    ctx.send(
        DecisionRecours(
            favorable=favorable,
            criteria=msg.criteria,
            reasons=reasons,
            employer_tax_eur=tax,
            secured_authorisation_sent_to=sent_to,
            # The DT-OFII did not see a recours filed with the platform: it hears of it now.
            recours_filed_at=d.recours_received_at if d.online else None,
        )
    )


HANDLERS = {
    TransmissionSmoe: transmission_smoe,
    DemandeAutorisationTravailEnLigne: demande_en_ligne,
    InstructionTerminee: instruction_terminee,
    TransmissionRecours: transmission_recours,
    RecoursGracieuxPlateforme: recours_gracieux_plateforme,
    ReexamenTermine: reexamen_termine,
}
