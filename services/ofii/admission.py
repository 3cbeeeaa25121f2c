"""What the DT-OFII lets in, and at which step of a dossier: the single window's state machine,
paragraph by paragraph of the circular. The runtime asks before any handler runs; what it does not
let in changes nothing and goes to the error queue with its reason (services/state_machine.py).

A closed dossier lets in only what the law allows after its outcome: the employer's recours
gracieux after a refused work authorisation, and the SMOE's decision on it. A missed convocation
brings the second one, an incomplete card dossier its missing documents.
"""

from __future__ import annotations

from schemas.actes import TransmissionValidee
from schemas.autorisation_travail import (
    ComplementAdresse,
    DecisionAutorisationTravail,
    DepotAutorisationTravail,
)
from schemas.competences_talents import (
    DecisionCompetencesTalents,
    TransmissionDossierOfii,
)
from schemas.echeances import EcheanceRemise
from schemas.plateforme import InformationOfii
from schemas.recours import DecisionRecours, RecoursGracieux
from schemas.remise import PresentationConvocation
from schemas.titre import (
    ComplementsTitre,
    DepotTitre,
    Recepisse,
    TransmissionPrefecture,
    TransmissionTitre,
)
from schemas.veille import ALERTE
from schemas.visa import DecisionVisa, TransmissionConsulat
from services.ofii.state import OfiiDossier
from services.ofii.tasks import (
    COMPLEMENTS_TITRE,
    DECISION_AUTORISATION_TRAVAIL,
    DECISION_VISA,
    DEPOT_TITRE,
    PRESENTATION,
    RECOURS_GRACIEUX,
)
from services.parties import PARTIES
from services.state_machine import Table, always, at, opens


def awaiting(step: str):
    return lambda msg, d: d.waiting_for == step


def where(d: OfiiDossier) -> str:
    if d.outcome and d.waiting_for:
        return f"closed ({d.outcome}) but awaiting {d.waiting_for}"
    if d.outcome:
        return f"closed ({d.outcome})"
    return f"awaiting {d.waiting_for}" if d.waiting_for else "open"


def still_open(d: OfiiDossier) -> bool:
    """No outcome yet, or one the law lets go on (a refusal open to a recours)."""
    return d.outcome is None or d.waiting_for is not None


def before_the_consulate(msg: ComplementAdresse, d: OfiiDossier) -> bool:
    """II.B: the DT-OFII sees that the address is complete before the dossier goes to the consulate."""
    return d.route == "guichet_unique" and still_open(d) and not d.recorded(TransmissionConsulat.STEP)


def convoked(msg: PresentationConvocation, d: OfiiDossier) -> bool:
    """II.D: the worker answers the convocation the dossier awaits, the first or after a missed one
    the second, as long as the visit is not done and the card neither handed over nor sent back."""
    return d.outcome is None and not d.visit_done and d.waiting_for == PRESENTATION.get(msg.number)


def card_awaited(msg, d: OfiiDossier) -> bool:
    """II.C.2, R.311-10: the card comes from the préfecture the complete dossier went to, once."""
    return d.outcome is None and d.card is None and d.recorded(TransmissionPrefecture.STEP)


def alerted_by_its_own(msg, envelope, d: OfiiDossier) -> str | None:
    """II.E.1: an agency alerts the référent about its own pending steps; the relay (the DT-OFII
    itself) about any transmission that waited in a queue."""
    if envelope.sender.agency in (msg.agency, PARTIES.relay):
        return None
    return f"{envelope.sender.agency} alerts about a step of {msg.agency}"


TABLE = Table(
    "ofii",
    where=where,
    rules={
        DepotAutorisationTravail: opens("II.A.1: the employer files the dossier with the DT-OFII"),
        InformationOfii: opens("2021 notes: the platform lets the OFII know of a request filed online with it"),
        DecisionCompetencesTalents: opens(
            "II.A.2, R.315-7: the consul's decision brings the application it answers",
            when=awaiting("decision_competences_talents"),
            expects="to open the dossier, or for a 'compétences et talents' dossier deposited here",
        ),
        TransmissionValidee: at(
            lambda msg, d: d.waiting_for == msg.transmission,
            "while the dossier awaits the agent's stamp for that transmission",
            "II.A.1, II.B",
        ),
        ComplementAdresse: at(
            before_the_consulate, "while the single window holds the dossier, before it goes to the consulate", "II.B"
        ),
        DecisionAutorisationTravail: at(
            awaiting(DECISION_AUTORISATION_TRAVAIL),
            "once the single window forwarded the request to the SMOE",
            "II.A.1",
        ),
        RecoursGracieux: at(
            awaiting(RECOURS_GRACIEUX),
            "after the work authorisation was refused by a SMOE (under 2021 the recours goes to the platform)",
            "the recours gracieux",
        ),
        DecisionRecours: at(
            awaiting("decision_recours"),
            "once a recours went to the SMOE, or after a platform's refusal (2021)",
            "the re-examination",
        ),
        DecisionVisa: at(awaiting(DECISION_VISA), "once the dossier is with the consulate", "II.B"),
        TransmissionDossierOfii: at(
            lambda msg, d: d.recorded(DecisionCompetencesTalents.STEP) and not d.recorded(TransmissionDossierOfii.STEP),
            "after the consul's decision on a 'compétences et talents' card, once",
            "II.A.2",
        ),
        DepotTitre: at(awaiting(DEPOT_TITRE), "once the visa is granted", "II.C.1"),
        ComplementsTitre: at(
            awaiting(COMPLEMENTS_TITRE), "while an incomplete card dossier awaits its documents", "II.C.1"
        ),
        PresentationConvocation: at(convoked, "at a convocation the worker received and has not answered", "II.D"),
        TransmissionTitre: at(
            card_awaited, "once the complete card dossier went to the préfecture, before any card", "II.C.2, R.311-10"
        ),
        Recepisse: at(
            lambda msg, d: card_awaited(msg, d) and not d.recepisse,
            "while the card is awaited from the préfecture, once",
            "II.C.2",
        ),
        # Its own reminder: the handler sees whether the card is still to be handed over.
        EcheanceRemise: at(always, "while the dossier is held", "II.D"),
        **{
            cls: at(always, "while the dossier is held", "II.E.1", competent=alerted_by_its_own)
            for cls in ALERTE.values()
        },
    },
)
