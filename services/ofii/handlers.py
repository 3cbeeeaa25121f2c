"""The DT-OFII's handlers: one plain function per message it receives, each the paragraph of the
circular it carries out."""

from __future__ import annotations

from guichet.agency import Context
from guichet.timeutil import end_of_day
from schemas.actes import TransmissionValidee
from schemas.autorisation_travail import (
    GUICHET_UNIQUE_STAMP,
    ComplementAdresse,
    DecisionAutorisationTravail,
    DepotAutorisationTravail,
    TransmissionSmoe,
)
from schemas.competences_talents import (
    CopieMinistere,
    DecisionCompetencesTalents,
    DemandeCompetencesTalents,
    TransmissionDossierOfii,
)
from schemas.echeances import EcheanceRemise
from schemas.plateforme import (
    AccuseDepot,
    DemandeAutorisationTravailEnLigne,
    InformationOfii,
)
from schemas.recours import DecisionRecours, RecoursGracieux
from schemas.remise import (
    PresentationConvocation,
)
from schemas.titre import (
    ComplementsTitre,
    DepotTitre,
    Recepisse,
    TransmissionTitre,
)
from schemas.veille import ALERTE, AlerteDelai
from schemas.visa import DecisionVisa, TransmissionConsulat
from services.ofii import rules
from services.ofii.autorisation import decision_autorisation_travail, decision_recours, recours_gracieux
from services.ofii.state import Alert, OfiiDossier
from services.ofii.tasks import (
    DECISION_AUTORISATION_TRAVAIL,
    DECISION_VISA,
    DEPOT_TITRE,
    TRANSMISSION_CONSULAT,
    TRANSMISSION_SMOE,
    await_step,
    inform_employer,
)
from services.ofii.titre import (
    complements_titre,
    depot_titre,
    echeance_remise,
    presentation_convocation,
    recepisse,
    transmission_titre,
)


def depot_autorisation_travail(msg: DepotAutorisationTravail, ctx: Context, d: OfiiDossier) -> None:
    """II.A.1, I.B-I.E: the employer files with the DT-OFII, which checks that the single window
    serves this worker and, if so, has an agent stamp the request for the SMOE within 5 days."""
    d.dossier = msg.dossier
    d.record(DepotAutorisationTravail, ctx.now)
    d.route, d.route_reason = rules.route(msg.dossier, ctx.reference)
    if d.route == "guichet_unique":
        _ask_for_address_if_incomplete(ctx, d)
        if rules.needs_work_authorisation(msg.dossier):
            d.smoe = rules.competent_smoe(msg.dossier, ctx.reference)
            # II.A.1: once the dossier is complete, the work authorisation within 4 to 6 weeks overall.
            ctx.await_act(rules.OVERALL_TASK, rules.overall_deadline(ctx.now), warn_at=rules.overall_warning(ctx.now))
            await_step(ctx, d, TRANSMISSION_SMOE, rules.smoe_deadline(ctx.now))
        else:
            # II.A.2: no work authorisation and nothing to forward: the worker applies at the consulate,
            # which decides and sends its decision with the file here.
            d.waiting_for = "decision_competences_talents"
        return
    d.outcome = "hors_guichet_unique"
    if d.route == "smoe_droit_commun" and rules.needs_work_authorisation(msg.dossier):
        # I.E: ordinary law, the dossier goes to the territorially competent service, unstamped;
        # never a 'compétences et talents' one, whose card is the authorisation (R.315-7).
        d.smoe = rules.competent_smoe(msg.dossier, ctx.reference)
        ctx.send(TransmissionSmoe(dossier=msg.dossier, route=d.route, smoe=d.smoe, stamp=None))
        d.record(TransmissionSmoe, ctx.now)
    elif d.route == "prefecture_residence":
        d.prefecture = msg.dossier.residence_department
    inform_employer(ctx, d, "hors_guichet_unique", d.route_reason)


def information_ofii(msg: InformationOfii, ctx: Context, d: OfiiDossier) -> None:
    """2021 notes: the employer filed online with the platform, which confirmed the deposit and lets
    the OFII know. Nothing was deposited here: the DT-OFII follows the single window's dossier from
    the platform's deposit (I.A, II.E.1) and carries it on to the consulate once the platform decides."""
    d.dossier, d.smoe = msg.dossier, msg.platform
    # The platform's dates, never later than the DT-OFII heard of them: a later one would only push
    # back the deadlines that run from the deposit.
    deposited = min(msg.deposited_at, ctx.received_at)
    d.record(DemandeAutorisationTravailEnLigne, deposited)
    d.record(AccuseDepot, min(msg.acknowledged_at, ctx.received_at))
    d.route, d.route_reason = rules.route(msg.dossier, ctx.reference)
    if d.route == "guichet_unique":
        _ask_for_address_if_incomplete(ctx, d)
        # II.A.1: the work authorisation within 4 to 6 weeks overall, from the deposit; the
        # platform's own decision within 10 days of it.
        ctx.await_act(rules.OVERALL_TASK, rules.overall_deadline(deposited), warn_at=rules.overall_warning(deposited))
        d.deadlines[DECISION_AUTORISATION_TRAVAIL] = rules.smoe_decision_deadline(deposited)
        d.waiting_for = DECISION_AUTORISATION_TRAVAIL
        return
    # I.E: outside the single window the platform instructs under ordinary law; the DT-OFII only knows of it.
    d.outcome = "hors_guichet_unique"
    if d.route == "prefecture_residence":
        d.prefecture = msg.dossier.residence_department


def transmission_validee(msg: TransmissionValidee, ctx: Context, d: OfiiDossier) -> None:
    """An agent has stamped the dossier 'guichet unique'; the bus carries it on (II.A.1, II.B)."""
    if d.waiting_for != msg.transmission:
        return  # already sent, or no longer expected: a second validation changes nothing
    ctx.close(msg.transmission)
    if msg.transmission == TRANSMISSION_CONSULAT and rules.missing_address_fields(d.dossier):
        # II.B: no transmission to the consulate without the complete address abroad.
        d.waiting_for = "complement_adresse"
        return
    _forward(ctx, d, msg.transmission)


def complement_adresse(msg: ComplementAdresse, ctx: Context, d: OfiiDossier) -> None:
    """II.B: the employer completes the address; a dossier held for it goes to the consulate."""
    worker = d.dossier.worker.model_copy(update={"address_abroad": msg.address_abroad})
    d.dossier = d.dossier.model_copy(update={"worker": worker})
    if rules.missing_address_fields(d.dossier):
        _ask_for_address_if_incomplete(ctx, d)
    elif d.waiting_for == "complement_adresse":
        _forward(ctx, d, TRANSMISSION_CONSULAT)


def _ask_for_address_if_incomplete(ctx: Context, d: OfiiDossier) -> None:
    missing = rules.missing_address_fields(d.dossier)
    if missing:
        inform_employer(ctx, d, "adresse_a_completer", ", ".join(missing))


def _forward(ctx: Context, d: OfiiDossier, transmission: str) -> None:
    """II.A.1, II.B: the stamped dossier goes on to the SMOE or to the consulate."""
    deadline = d.deadlines.get(transmission)
    if transmission == TRANSMISSION_SMOE:
        ctx.send(
            TransmissionSmoe(dossier=d.dossier, route="guichet_unique", smoe=d.smoe, stamp=GUICHET_UNIQUE_STAMP),
            deadline=deadline,
        )
        d.record(TransmissionSmoe, ctx.now, deadline, GUICHET_UNIQUE_STAMP)
        # II.A.1: the SMOE decides within 10 days of receiving the dossier, which it has from now.
        d.deadlines[DECISION_AUTORISATION_TRAVAIL] = rules.smoe_decision_deadline(ctx.now)
        d.waiting_for = DECISION_AUTORISATION_TRAVAIL
    else:
        ctx.close(rules.OVERALL_TASK)
        ctx.send(TransmissionConsulat(dossier=d.dossier, family=d.dossier.family), deadline=deadline)
        d.record(TransmissionConsulat, ctx.now, deadline, GUICHET_UNIQUE_STAMP)
        if rules.needs_work_authorisation(d.dossier):
            # II.A.1: the employer is told of the authorisation and of the transmission to the consulate.
            inform_employer(ctx, d, "autorisation_accordee_dossier_transmis_consulat")
        # II.B: the visa within 15 days of the consulate's receipt of the dossier.
        d.deadlines[DECISION_VISA] = rules.visa_decision_deadline(ctx.now)
        d.waiting_for = DECISION_VISA


def decision_visa(msg: DecisionVisa, ctx: Context, d: OfiiDossier) -> None:
    """II.B: the consulate's decision; with a visa the worker comes and the card dossier is awaited."""
    d.record(DecisionVisa, ctx.received_at, d.deadlines.get(DECISION_VISA))
    if not msg.granted:
        d.outcome, d.waiting_for, d.outcome_reason = "visa_refuse", None, msg.reason
        # D.311-18-2 taxes the employer "qui embauche", D.311-18-3 a) makes it due from the visa of
        # first entry: with the visa refused nobody is hired, and the OFII collects nothing.
        d.employer_tax_eur = d.employer_tax_due_by = None
        ctx.close_dossier()
        inform_employer(ctx, d, "visa_refuse", msg.reason or "")
        return
    d.visa, d.visa_valid_from, d.visa_valid_until = msg.visa, msg.valid_from, msg.valid_until
    if d.employer_tax_eur is not None:
        # D.311-18-3 a): the tax is paid within three months of the visa of first entry.
        d.employer_tax_due_by = rules.employer_tax_due_by(msg.valid_from or ctx.received_at.date())
    await_step(ctx, d, DEPOT_TITRE, end_of_day(rules.latest_deposit_day(msg.valid_until)))


def decision_competences_talents(msg: DecisionCompetencesTalents, ctx: Context, d: OfiiDossier) -> None:
    """II.A.2, R.315-7: the consul alone decides on the 'compétences et talents' card. The worker
    applied at the consulate: the DT-OFII hears of the dossier with the decision."""
    if d.dossier is None:
        if msg.dossier is None:
            raise ValueError(
                "a 'compétences et talents' decision for a dossier the DT-OFII does not hold must carry the application"
            )
        d.dossier = msg.dossier
        d.record(DemandeCompetencesTalents, min(msg.applied_at or ctx.received_at, ctx.received_at))
        d.route, d.route_reason = rules.route(msg.dossier, ctx.reference)
    # The 15 days of II.B bind the dossiers the DT-OFII transmits, not this application (II.A.2).
    d.record(DecisionCompetencesTalents, ctx.received_at)
    if d.route != "guichet_unique":
        # I.C: outside the eight départements the card follows ordinary law; no SMOE ever took part.
        d.outcome, d.waiting_for = "hors_guichet_unique", None
        ctx.close_dossier()
        return
    d.waiting_for = DECISION_VISA


def transmission_dossier_ofii(msg: TransmissionDossierOfii, ctx: Context, d: OfiiDossier) -> None:
    """II.A.2: the DT-OFII receives the decision with two copies of the file and sends one copy to
    the ministry's bureau of professional immigration."""
    d.record(TransmissionDossierOfii, ctx.received_at)
    ctx.send(CopieMinistere())
    d.record(CopieMinistere, ctx.now)


def alerte_delai(msg: AlerteDelai, ctx: Context, d: OfiiDossier) -> None:
    """II.E.1: the référent guichet unique is told of a deadline near or passed on a pending step."""
    d.alerts.append(Alert(agency=msg.agency, step=msg.step, kind=msg.kind, deadline=msg.deadline, at=ctx.received_at))


HANDLERS = {
    DepotAutorisationTravail: depot_autorisation_travail,
    InformationOfii: information_ofii,
    TransmissionValidee: transmission_validee,
    DecisionAutorisationTravail: decision_autorisation_travail,
    DecisionVisa: decision_visa,
    DepotTitre: depot_titre,
    ComplementsTitre: complements_titre,
    ComplementAdresse: complement_adresse,
    RecoursGracieux: recours_gracieux,
    DecisionRecours: decision_recours,
    PresentationConvocation: presentation_convocation,
    TransmissionTitre: transmission_titre,
    Recepisse: recepisse,
    DecisionCompetencesTalents: decision_competences_talents,
    TransmissionDossierOfii: transmission_dossier_ofii,
    EcheanceRemise: echeance_remise,
    **{cls: alerte_delai for cls in ALERTE.values()},
}
