"""The DT-OFII's handlers for the residence card: the card dossier (II.C) and the medical visit
with the hand-over (II.D)."""

from __future__ import annotations

from guichet.agency import Context
from guichet.timeutil import add_days
from schemas.echeances import EcheanceRemise
from schemas.remise import (
    ConvocationVisiteMedicale,
    PresentationConvocation,
    RemiseTitre,
    RenvoiTitrePrefecture,
    SecondeConvocation,
)
from schemas.steps import Step
from schemas.titre import (
    ComplementsTitre,
    DemandeComplements,
    DepotTitre,
    Recepisse,
    TransmissionPrefecture,
    TransmissionTitre,
)
from services.ofii import rules
from services.ofii.state import OfiiDossier
from services.ofii.tasks import COMPLEMENTS_TITRE, DEPOT_TITRE, PRESENTATION, await_step


def depot_titre(msg: DepotTitre, ctx: Context, d: OfiiDossier) -> None:
    """II.C.1: on arrival the employer sends the card dossier; the DT-OFII checks it against the
    préfecture's single list and flags a deposit later than two months before the visa expires."""
    d.record(DepotTitre, ctx.now)
    ctx.close(DEPOT_TITRE)
    d.prefecture = d.dossier.residence_department
    d.documents = sorted(set(msg.documents))
    # R.313-19-1, R.313-20-2 III: the préfet's time limits for a carte bleue run from this deposit.
    limits = {
        Step.FABRICATION_TITRE: rules.carte_bleue_decision_deadline(d.dossier.title, ctx.now),
        Step.TITRE_FAMILLE: rules.carte_bleue_family_deadline(d.dossier.title, d.dossier.family.spouse, ctx.now),
    }
    d.deadlines.update({step: limit for step, limit in limits.items() if limit is not None})
    _check_completeness(ctx, d)


def complements_titre(msg: ComplementsTitre, ctx: Context, d: OfiiDossier) -> None:
    """II.C.1: the missing documents arrive; the dossier waited for them and goes on."""
    ctx.close(COMPLEMENTS_TITRE)
    d.documents = sorted(set(d.documents) | set(msg.documents))
    _check_completeness(ctx, d)


def _check_completeness(ctx: Context, d: OfiiDossier) -> None:
    """II.C.1: the time limit is on the complete dossier; one completed after it is late, however
    early its first, incomplete deposit came."""
    single_list = ctx.reference.prefecture_policy(d.prefecture)["single_list"]
    missing = rules.missing_documents(single_list, d.documents)
    d.deposit_late = rules.deposit_late(ctx.now, d.visa_valid_until)
    if missing:
        d.completed_late = True
        d.missing_documents = missing
        ctx.send(DemandeComplements(missing=missing))
        d.record(DemandeComplements, ctx.now)
        limit = d.deadlines.get(DEPOT_TITRE)
        await_step(ctx, d, COMPLEMENTS_TITRE, limit if limit and ctx.now <= limit else None)
        return
    d.missing_documents = []
    _transmit_to_prefecture(ctx, d)


def _transmit_to_prefecture(ctx: Context, d: OfiiDossier) -> None:
    """II.C.1 then II.D: the complete dossier goes without delay to the préfecture of residence,
    and the medical-visit convocation is launched at the same time, so that both meet at the visit."""
    dossier = d.dossier
    ctx.send(
        TransmissionPrefecture(
            dossier=dossier,
            family=dossier.family,
            card_kind=dossier.title,
            visa_valid_until=d.visa_valid_until,
            deposit_late=d.deposit_late,
            completed_late=d.completed_late,
            biometric_dispense=dossier.title in rules.SINGLE_WINDOW_TITLES,
            decided_by_consulate=dossier.title == "competences_et_talents",
            decision_due_by=d.deadlines.get(Step.FABRICATION_TITRE),
            family_decision_due_by=d.deadlines.get(Step.TITRE_FAMILLE),
        )
    )
    d.record(TransmissionPrefecture, ctx.now, stamp="guichet unique")
    d.medical_visit_required = rules.medical_visit_required(dossier, d.documents)
    d.waiting_for = "titre"
    # I.D: one convocation for the worker and the family together; the carte bleue holder's family
    # is convoked though the holder is not (II.D).
    d.convoked = ["worker"] * d.medical_visit_required + rules.family_convoked(dossier, d.documents)
    appointment = add_days(ctx.now, rules.CONVOCATION_DAYS)
    if d.convoked:
        d.first_appointment_at = appointment
        ctx.send(ConvocationVisiteMedicale(appointment_at=appointment, convoked=d.convoked))
        d.record(ConvocationVisiteMedicale, ctx.now)
    if d.medical_visit_required:
        await_step(ctx, d, PRESENTATION[1], appointment, watch=False)
        # II.D: the month for the hand-over, a reminder withdrawn once the card is handed over.
        ctx.await_act("remise_titre", rules.handover_limit(appointment), watch=False)
        ctx.send(
            EcheanceRemise(first_convocation_at=appointment),
            at=rules.handover_limit(appointment),
            while_open="remise_titre",
        )


def presentation_convocation(msg: PresentationConvocation, ctx: Context, d: OfiiDossier) -> None:
    """II.D: the worker came, and the card is handed over at the visit; or did not, and is
    convoked a second time."""
    ctx.close(PRESENTATION[msg.number])
    if d.outcome:
        return
    if msg.present:
        d.visit_done = True
        if d.card:
            _hand_over(ctx, d)
        return
    if msg.number == 1:
        appointment = add_days(ctx.now, rules.SECOND_CONVOCATION_DAYS)
        d.second_convocation, d.second_appointment_at = True, appointment
        ctx.send(SecondeConvocation(appointment_at=appointment))
        d.record(SecondeConvocation, ctx.now)
        await_step(ctx, d, PRESENTATION[2], appointment, watch=False)


def transmission_titre(msg: TransmissionTitre, ctx: Context, d: OfiiDossier) -> None:
    """II.C.2, R.311-10: the préfecture sends the card to the DT-OFII for hand-over."""
    # The préfecture's date of production, never later than the card reached the DT-OFII.
    produced = min(msg.produced_at, ctx.received_at)
    d.record_act(Step.FABRICATION_TITRE, "prefecture", produced, d.deadlines.get(Step.FABRICATION_TITRE))
    d.record(TransmissionTitre, ctx.received_at)
    d.card, d.family_documents = msg.card, msg.family
    if d.handover_period_over and not d.visit_done:
        _send_back(ctx, d)
    elif d.visit_done or not d.medical_visit_required:
        # Visit done, or none required (carte bleue, visit abroad): the worker is convoked for hand-over.
        _hand_over(ctx, d)


def recepisse(msg: Recepisse, ctx: Context, d: OfiiDossier) -> None:
    """II.C.2: the préfecture could not produce the card within two months."""
    d.record(Recepisse, ctx.received_at)
    d.recepisse, d.recepisse_until = True, msg.valid_until


def echeance_remise(msg: EcheanceRemise, ctx: Context, d: OfiiDossier) -> None:
    """II.D: a month after the first convocation, a card not handed over goes back to the préfecture."""
    if d.outcome or d.visit_done:
        return
    d.handover_period_over = True
    if d.card:
        _send_back(ctx, d)


def _hand_over(ctx: Context, d: OfiiDossier) -> None:
    ctx.send(RemiseTitre(card_number=d.card.number))
    d.record(RemiseTitre, ctx.now)
    d.outcome, d.waiting_for = "titre_remis", None
    ctx.close_dossier()


def _send_back(ctx: Context, d: OfiiDossier) -> None:
    ctx.send(RenvoiTitrePrefecture(card_number=d.card.number))
    d.record(RenvoiTitrePrefecture, ctx.now)
    d.returned_to_prefecture = True
    d.outcome, d.waiting_for = "titre_a_retirer_en_prefecture", None
    ctx.close_dossier()
