"""The préfecture's handlers."""

from __future__ import annotations

from guichet.agency import Context
from guichet.timeutil import paris
from schemas.actes import TitreProduit
from schemas.echeances import EcheanceProduction
from schemas.remise import RenvoiTitrePrefecture
from schemas.steps import Step
from schemas.titre import Recepisse, TransmissionPrefecture, TransmissionTitre
from services.prefecture import rules
from services.prefecture.state import PrefectureDossier


def transmission_prefecture(msg: TransmissionPrefecture, ctx: Context, d: PrefectureDossier) -> None:
    """II.C.1: the complete dossier arrives from the DT-OFII; production starts (for 'compétences et
    talents' strictly material: the consulate decided, II.C.1). II.C.2: if the card cannot be made
    within two months, a récépissé may be issued."""
    if d.dossier is not None:
        return
    d.dossier, d.family, d.card_kind = msg.dossier, msg.family, msg.card_kind
    d.department = msg.dossier.residence_department
    d.visa_valid_until, d.received_at = msg.visa_valid_until, ctx.received_at
    d.deposit_late, d.completed_late = msg.deposit_late, msg.completed_late
    d.biometric_dispense, d.decided_by_consulate = msg.biometric_dispense, msg.decided_by_consulate
    ctx.await_act(rules.PRODUCTION_TASK, deadline=rules.production_limit(ctx.received_at), step=Step.FABRICATION_TITRE)
    # R.313-19-1: a carte bleue is decided within 90 days of the application, silence being a refusal;
    # R.313-20-2 III: the holder's spouse gets a card within six months. Both watched while pending.
    if msg.decision_due_by is not None:
        ctx.await_act(rules.CARTE_BLEUE_TASK, deadline=msg.decision_due_by, step=Step.FABRICATION_TITRE)
    if msg.family_decision_due_by is not None:
        ctx.await_act(rules.FAMILY_CARD_TASK, deadline=msg.family_decision_due_by, step=Step.TITRE_FAMILLE)
    if rules.recepisse_possible(d.deposit_late, d.completed_late):
        ctx.send(
            EcheanceProduction(received_at=ctx.received_at),
            at=rules.production_limit(ctx.received_at),
            while_open=rules.PRODUCTION_TASK,
        )


def titre_produit(msg: TitreProduit, ctx: Context, d: PrefectureDossier) -> None:
    """II.C.2, II.E.2, II.E.3: the card, the family's documents, the AGDREF mention; all go to the
    DT-OFII for hand-over (R.311-10)."""
    if d.card is not None:
        return
    ctx.close(rules.PRODUCTION_TASK)
    ctx.close(rules.CARTE_BLEUE_TASK)
    ctx.close(rules.FAMILY_CARD_TASK)
    policy = ctx.reference.prefecture_policy(d.department)
    months = rules.card_months(d.card_kind, d.dossier.contract)
    d.produced_at = ctx.now
    d.card = rules.produce_card(
        d.card_kind,
        rules.card_number(d.department, d.dossier_id),
        paris(ctx.now).date(),
        months,
        d.biometric_dispense,
        agdref=rules.agdref_number(d.department, d.dossier_id),
    )
    d.family_documents = rules.family_documents(
        d.family, d.card, d.department, d.dossier_id, policy["dcem_in_guichet_unique"], d.dossier.contract
    )
    ctx.send(TransmissionTitre(produced_at=ctx.now, card=d.card, family=d.family_documents))


def echeance_production(msg: EcheanceProduction, ctx: Context, d: PrefectureDossier) -> None:
    """II.C.2: two months after the complete dossier, no card yet: a récépissé."""
    if d.card is not None or d.recepisse_until is not None:
        return
    d.recepisse_until = rules.recepisse_until(paris(ctx.now).date())
    ctx.send(Recepisse(valid_until=d.recepisse_until))


def renvoi_titre(msg: RenvoiTitrePrefecture, ctx: Context, d: PrefectureDossier) -> None:
    """II.D: the card comes back; the worker collects it at the préfecture under ordinary law."""
    d.card_returned = True


HANDLERS = {
    TransmissionPrefecture: transmission_prefecture,
    TitreProduit: titre_produit,
    EcheanceProduction: echeance_production,
    RenvoiTitrePrefecture: renvoi_titre,
}
