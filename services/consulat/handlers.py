"""The consulate's handlers."""

from __future__ import annotations

from guichet.agency import Context
from schemas.actes import DecisionConsul
from schemas.competences_talents import (
    DecisionCompetencesTalents,
    DemandeCompetencesTalents,
    TransmissionDossierOfii,
)
from schemas.visa import DecisionVisa, TransmissionConsulat
from services import single_window
from services.consulat import rules
from services.consulat.state import ConsulatDossier


def transmission_consulat(msg: TransmissionConsulat, ctx: Context, d: ConsulatDossier) -> None:
    """II.B: the 'guichet unique' stamp identifies the dossier on receipt; the consulate instructs
    the worker's visa and the family's together, aiming at a visa within 15 days."""
    if d.dossier is not None:
        return
    d.dossier, d.family, d.stamp = msg.dossier, msg.family, msg.stamp
    d.received_at = ctx.received_at
    d.deadline = rules.visa_deadline(ctx.received_at)
    ctx.await_act(rules.DECISION_VISA_TASK, deadline=d.deadline)


def demande_competences_talents(msg: DemandeCompetencesTalents, ctx: Context, d: ConsulatDossier) -> None:
    """II.A.2: the worker applies at the consulate, which instructs the application with the OFII's
    representation abroad where there is one; the consul alone decides (R.315-7). The 15 days of
    II.B are an objective for the stamped dossiers the DT-OFII transmits: none binds this one."""
    if d.dossier is not None:
        return
    d.dossier, d.family, d.received_at = msg.dossier, msg.dossier.family, ctx.received_at
    ctx.await_act(rules.DECISION_VISA_TASK)


def decision_consul(msg: DecisionConsul, ctx: Context, d: ConsulatDossier) -> None:
    """II.B: the consul's decision goes to the worker, with a copy to the DT-OFII."""
    if d.decided:
        return
    ctx.close(rules.DECISION_VISA_TASK)
    d.decided, d.granted = True, msg.granted
    competences_talents = d.dossier.title == "competences_et_talents"
    if competences_talents:
        # II.A.2, R.315-7: the consul alone decides on the card itself, in the eight départements or not;
        # the decision tells the DT-OFII of the dossier, which it closes when outside the single window.
        ctx.send(
            DecisionCompetencesTalents(
                favorable=msg.granted, reason=msg.reason, dossier=d.dossier, applied_at=d.received_at
            ),
            deadline=d.deadline,
        )
    if competences_talents and single_window.route(d.dossier, ctx.reference)[0] != "guichet_unique":
        # I.C: outside the eight départements the visa and the card follow ordinary law, not the DT-OFII.
        return
    if msg.granted:
        valid_from, valid_until = rules.visa_validity(ctx.now.date(), msg.validity_days)
        decision = DecisionVisa(
            granted=True,
            visa=rules.visa_mention(d.dossier.title),
            valid_from=valid_from,
            valid_until=valid_until,
            family=d.family,
        )
    else:
        decision = DecisionVisa(granted=False, reason=msg.reason or "visa refusé")
    ctx.send(decision, deadline=d.deadline)
    if competences_talents and msg.granted:
        ctx.send(TransmissionDossierOfii(copies=2))


HANDLERS = {
    TransmissionConsulat: transmission_consulat,
    DemandeCompetencesTalents: demande_competences_talents,
    DecisionConsul: decision_consul,
}
