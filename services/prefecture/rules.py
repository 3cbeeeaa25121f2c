"""The préfecture's rules: the card's validity, its AGDREF mention, the récépissé, the family."""

from __future__ import annotations

import zlib
from datetime import date, datetime

from guichet.timeutil import add_months
from schemas.dossier import Contract, Family
from schemas.titre import Card, FamilyDocument

PRODUCTION_MONTHS = 2  # II.C.2
# II.C.2 allows the récépissé without giving its validity, nor does the CESEDA held here; the
# circular IOCL1200311C it cites on récépissés is not among the sources. Reading taken: three months,
# the time the préfecture still needs once its two months have run (docs/law.md).
RECEPISSE_MONTHS = 3
DCEM_MONTHS = 60  # D.321-20: "délivré pour une durée de cinq ans renouvelable"
MAX_CARD_MONTHS = 36
# The préfet's time limits on a carte bleue européenne (R.313-19-1) and its holder's spouse's card
# (R.313-20-2 III), computed by the DT-OFII from the deposit and carried with the dossier.
PRODUCTION_TASK = "production"  # the card's production (two months, II.C.2)
CARTE_BLEUE_TASK, FAMILY_CARD_TASK = "decision_carte_bleue", "titre_famille_carte_bleue"


def card_months(kind: str, contract: Contract) -> int:
    """How long the card is valid. Salarié en mission (L.313-10 5°) and compétences et talents
    (L.315-1): three years. Carte bleue européenne (L.313-10 6°): the contract's length plus three
    months, within three years. Jeune professionnel: the contract's length."""
    fixed_term = contract.months if contract.kind != "cdi" else None
    if kind == "carte_bleue_europeenne" and fixed_term:
        return min(fixed_term + 3, MAX_CARD_MONTHS)
    if kind == "jeune_professionnel":
        return min(fixed_term or 12, 18)
    return MAX_CARD_MONTHS


def agdref_number(department: str, person: str) -> str:
    """The foreigner's AGDREF dossier number, stable, ten characters: the département, then a
    digest of the person (the worker's dossier id, with '/conjoint' for the spouse)."""
    return f"{department}{zlib.crc32(person.encode()) % 10**8:08d}"


def card_number(department: str, person: str) -> str:
    """The number of the card itself, another number than its holder's AGDREF dossier number."""
    return f"T{department}{zlib.crc32(b'titre:' + person.encode()) % 10**8:08d}"


def agdref_observation(card: Card) -> str:
    """II.E.3: the mention written in the AGDREF 'observations' zone of a card made without prints."""
    return (
        f"Titre de séjour n° {card.number} valable du {card.valid_from:%d/%m/%Y} "
        f"au {card.valid_until:%d/%m/%Y} produit sans empreinte"
    )


def produce_card(
    kind: str, number: str, produced: date, months: int, dispense: bool, agdref: str | None = None
) -> Card:
    card = Card(
        kind=kind,
        number=number,
        valid_from=produced,
        valid_until=add_months(produced, months),
        fingerprints=not dispense,
        agdref_number=agdref,
    )
    return card if card.fingerprints else card.model_copy(update={"agdref_observation": agdref_observation(card)})


MISSION_STAY_MONTHS = 6  # R.313-20-2 II 2°: "plus de six mois en France"
SPOUSE_CARD_TITLES = ("salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne")  # L.313-11 3°


def spouse_card_due(kind: str, contract: Contract) -> bool:
    """L.313-11 3° gives the spouse a 'vie privée et familiale' card for the three titles only, and
    R.313-20-2 II 2° asks, for a salarié en mission, the contract showing an uninterrupted stay of more
    than six months: a CDI shows it, a fixed term only beyond six months. Nothing gives a jeune
    professionnel's spouse this card: the spouse follows ordinary law, outside the single window."""
    if kind not in SPOUSE_CARD_TITLES:
        return False
    return kind != "salarie_en_mission" or contract.kind == "cdi" or (contract.months or 0) > MISSION_STAY_MONTHS


def family_documents(
    family: Family,
    worker_card: Card,
    department: str,
    dossier_id: str,
    dcem_in_guichet_unique: bool,
    contract: Contract,
) -> list[FamilyDocument]:
    """II.E.2: the spouse's 'vie privée et familiale' card of identical validity where the texts give
    it (`spouse_card_due`); for minor children the DCEM, inside the single window or under ordinary
    law per the préfecture's choice."""
    documents = []
    if family.spouse and spouse_card_due(worker_card.kind, contract):
        person = dossier_id + "/conjoint"
        spouse = Card(
            kind="vie_privee_et_familiale",
            number=card_number(department, person),
            valid_from=worker_card.valid_from,
            valid_until=worker_card.valid_until,
            fingerprints=worker_card.fingerprints,
            agdref_number=agdref_number(department, person),
        )
        if not spouse.fingerprints:
            spouse = spouse.model_copy(update={"agdref_observation": agdref_observation(spouse)})
        documents.append(FamilyDocument(role="spouse", titre="vie_privee_et_familiale", card=spouse))
    # D.321-20: five years from its issue with the worker's card; under ordinary law the préfecture
    # issues it outside the single window, on a date the bus does not know.
    child = (
        FamilyDocument(role="minor_child", titre="dcem", valid_until=add_months(worker_card.valid_from, DCEM_MONTHS))
        if dcem_in_guichet_unique
        else FamilyDocument(role="minor_child", titre="dcem_droit_commun")
    )
    documents += [child] * family.minor_children
    return documents


def recepisse_possible(deposit_late: bool, completed_late: bool) -> bool:
    """II.C.2: never for a late deposit nor for a dossier incomplete through the applicant's doing."""
    return not deposit_late and not completed_late


def production_limit(received: datetime) -> datetime:
    return add_months(received, PRODUCTION_MONTHS)


def recepisse_until(issued: date) -> date:
    return add_months(issued, RECEPISSE_MONTHS)
