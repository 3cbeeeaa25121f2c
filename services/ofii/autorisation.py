"""The DT-OFII's handlers for the work authorisation's decision (II.A.1) and the recours gracieux
against a refusal: under the circular the recours goes through the single window to the SMOE; under
the 2021 notes the employer files it with the platform, which instructs it ("l'instruction des
demandes de recours gracieux") and sends its decision here as it sent the first."""

from __future__ import annotations

from guichet.agency import Context
from schemas.autorisation_travail import DecisionAutorisationTravail
from schemas.plateforme import SECURED_AUTHORISATION
from schemas.recours import DecisionRecours, RecoursGracieux, RecoursGracieuxPlateforme, TransmissionRecours
from services.ofii import rules
from services.ofii.state import OfiiDossier
from services.ofii.tasks import (
    DECISION_AUTORISATION_TRAVAIL,
    DECISION_RECOURS,
    RECOURS_GRACIEUX,
    TRANSMISSION_CONSULAT,
    await_step,
    inform_employer,
)


def decision_autorisation_travail(msg: DecisionAutorisationTravail, ctx: Context, d: OfiiDossier) -> None:
    """II.A.1: the SMOE sends its decision back; after a favourable one the DT-OFII forwards the
    dossier to the consulate within 48 hours."""
    d.record(DecisionAutorisationTravail, ctx.received_at, d.deadlines.get(DECISION_AUTORISATION_TRAVAIL))
    _record_secured_authorisation(msg, ctx, d)
    _on_work_authorisation(msg, ctx, d)


def _record_secured_authorisation(msg, ctx: Context, d: OfiiDossier) -> None:
    """2021 note: the platform sent the secured authorisation to the employer and to the worker."""
    for party in msg.secured_authorisation_sent_to:
        d.record(SECURED_AUTHORISATION[party], ctx.received_at)


def _on_work_authorisation(msg, ctx: Context, d: OfiiDossier) -> None:
    if not msg.favorable:
        ctx.close_dossier()
        d.outcome, d.outcome_reason = "autorisation_travail_refusee", "; ".join(msg.reasons)
        inform_employer(ctx, d, "autorisation_refusee", d.outcome_reason)
        if d.dossier.regime == "plateformes-2021":
            # The employer contests with the platform, not here: the DT-OFII only hears of its decision.
            d.waiting_for = DECISION_RECOURS
            return
        # The employer may contest the refusal by a recours gracieux, filed with the single window.
        await_step(ctx, d, RECOURS_GRACIEUX, rules.recours_deadline(ctx.now), watch=False)
        return
    d.outcome = d.outcome_reason = None
    # 2021 note: the platform tells the OFII the employer tax it is to collect.
    d.employer_tax_eur = msg.employer_tax_eur
    await_step(ctx, d, TRANSMISSION_CONSULAT, rules.consulat_deadline(ctx.received_at))


def recours_gracieux(msg: RecoursGracieux, ctx: Context, d: OfiiDossier) -> None:
    """Circular: the employer's recours gracieux goes through the single window to the SMOE that refused."""
    if d.waiting_for != RECOURS_GRACIEUX:
        return
    ctx.close(RECOURS_GRACIEUX)
    d.record(RecoursGracieux, ctx.now)
    ctx.send(TransmissionRecours(arguments=msg.arguments))
    d.record(TransmissionRecours, ctx.now)
    d.waiting_for = DECISION_RECOURS


def decision_recours(msg: DecisionRecours, ctx: Context, d: OfiiDossier) -> None:
    """The re-examination: a favourable one resumes the flow toward the consulate. A recours filed
    with the platform (2021) is recorded when the DT-OFII hears of it, at the platform's date."""
    if msg.recours_filed_at is not None:
        d.record(RecoursGracieuxPlateforme, min(msg.recours_filed_at, ctx.received_at))
    d.record(DecisionRecours, ctx.received_at)
    _record_secured_authorisation(msg, ctx, d)
    _on_work_authorisation(msg, ctx, d) if msg.favorable else _refused_again(msg, ctx, d)


def _refused_again(msg: DecisionRecours, ctx: Context, d: OfiiDossier) -> None:
    d.outcome, d.waiting_for = "autorisation_travail_refusee", None
    d.outcome_reason = "; ".join(msg.reasons)
    ctx.close_dossier()
    inform_employer(ctx, d, "autorisation_refusee", d.outcome_reason)
