"""The dossier object of the scenario contract, read from the DT-OFII's register (the single
window sees every step), and the annex 2 table, read from the préfecture's."""

from __future__ import annotations

from collections import defaultdict

from guichet.timeutil import iso, paris
from services.card_mentions import mention
from services.consulat.rules import competent_consulate
from services.directory import Directory
from services.ofii.state import OfiiDossier
from services.ofii.tasks import COMPLEMENTS_TITRE, DEPOT_TITRE
from services.prefecture.state import PrefectureDossier

BIOMETRIC_CATEGORIES = (
    "salarie_en_mission",
    "competences_et_talents",
    "carte_bleue_europeenne",
    "vie_privee_et_familiale",
)


def dossier_view(state: dict, directory: Directory) -> dict:
    d = OfiiDossier.model_validate(state)
    outcome = d.outcome or ("dossier_titre_incomplet" if d.waiting_for == COMPLEMENTS_TITRE else "en_cours")
    required = d.medical_visit_required
    if required is None and d.dossier is not None:
        required = d.dossier.title != "carte_bleue_europeenne"
    family = []
    for doc in d.family_documents:
        entry = {"role": doc.role, "titre": doc.titre}
        until = doc.card.valid_until if doc.card else doc.valid_until  # the DCEM's own five years (D.321-20)
        if until:
            entry["valid_until"] = until.isoformat()
        family.append(entry)
    titre = None
    if d.card:
        titre = {
            "kind": d.card.kind,
            "mention": mention(d.card.kind, d.dossier.regime if d.dossier else None),
            "number": d.card.number,
            "agdref_number": d.card.agdref_number,
            "valid_from": d.card.valid_from.isoformat(),
            "valid_until": d.card.valid_until.isoformat(),
            "fingerprints": d.card.fingerprints,
            "agdref_observation": d.card.agdref_observation,
        }
    single_window = d.route == "guichet_unique" and d.dossier is not None
    visa = None
    if d.visa_valid_until:
        visa = {"mention": d.visa, "valid_from": _day(d.visa_valid_from), "valid_until": _day(d.visa_valid_until)}
    return {
        "id": d.dossier_id,
        "title": d.dossier.title if d.dossier else None,
        "regime": d.dossier.regime if d.dossier else None,
        # The employer is a firm: its name and SIRET are what an agent is asked about on the telephone.
        "employer": {"name": d.dossier.employer.name, "siret": d.dossier.employer.siret} if d.dossier else None,
        "route": d.route,
        "route_reason": d.route_reason,
        "outcome": outcome,
        "outcome_reason": d.outcome_reason,
        "missing_documents": d.missing_documents if d.waiting_for == COMPLEMENTS_TITRE else [],
        "dt_ofii": directory.dt_ofii_for(d.dossier.employment_department) if single_window else None,
        "consulat": competent_consulate(d.dossier) if single_window else None,
        "convocations": [iso(at) for at in (d.first_appointment_at, d.second_appointment_at) if at],
        "waiting_for": d.waiting_for if outcome == "en_cours" else None,
        "visa": visa,
        # II.C.1: the card dossier must reach the DT-OFII two months before the visa ends.
        "deposit_limit": iso(d.deadlines.get(DEPOT_TITRE)),
        "smoe": d.smoe,
        "prefecture": d.prefecture,
        "medical_visit_required": required,
        "medical_visit_convoked": d.convoked,
        "second_convocation": d.second_convocation,
        "returned_to_prefecture": d.returned_to_prefecture,
        "recepisse": d.recepisse,
        "recepisse_until": _day(d.recepisse_until),
        "deposit_late": d.deposit_late,
        "employer_tax_eur": d.employer_tax_eur,
        "employer_tax_due_by": d.employer_tax_due_by.isoformat() if d.employer_tax_due_by else None,
        "deadline_breaches": [s.step for s in d.steps if s.late],
        "deadline_alerts": [
            {"agency": a.agency, "step": a.step, "kind": a.kind, "deadline": iso(a.deadline), "at": iso(a.at)}
            for a in d.alerts
        ],
        "family": family,
        "titre": titre,
        "steps": [
            {
                "step": s.step,
                "from": s.from_,
                "to": s.to,
                "at": iso(s.at),
                "deadline": iso(s.deadline),
                "late": s.late,
                "stamp": s.stamp,
                **({"subject": s.subject} if s.subject else {}),
            }
            for s in d.steps
        ],
    }


def _day(value) -> str | None:
    return value.isoformat() if value else None


def _cards_without_prints(prefecture_states: list[dict]):
    """(préfecture, month of production, card) for every card made without fingerprints (II.E.3)."""
    for raw in prefecture_states:
        d = PrefectureDossier.model_validate(raw)
        if d.card is None or d.produced_at is None:
            continue
        month = paris(d.produced_at).strftime("%Y-%m")
        for card in [d.card] + [doc.card for doc in d.family_documents if doc.card]:
            if not card.fingerprints and card.kind in BIOMETRIC_CATEGORIES:
                yield d.department, month, card


def biometric_report(prefecture_states: list[dict]) -> dict[str, dict[str, int]]:
    """Annex 2: per month of production, the cards made without fingerprints, by category."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BIOMETRIC_CATEGORIES, 0))
    for _, month, card in _cards_without_prints(prefecture_states):
        table[month][card.kind] += 1
    return {month: table[month] for month in sorted(table)}


def biometric_tables(
    prefecture_states: list[dict], month: str | None = None, prefecture: str | None = None
) -> dict[str, dict[str, dict[str, list[str]]]]:
    """II.E.3: the table each préfecture sends monthly, "numéros de dossier AGDREF uniquement": per
    préfecture, per month, per category, the holders' AGDREF numbers (not the cards' numbers)."""
    tables: dict = defaultdict(lambda: defaultdict(lambda: {c: [] for c in BIOMETRIC_CATEGORIES}))
    for department, card_month, card in _cards_without_prints(prefecture_states):
        if (month is None or card_month == month) and (prefecture is None or department == prefecture):
            # A card recorded before it carried its holder's number had that number as its own.
            tables[department][card_month][card.kind].append(card.agdref_number or card.number)
    return {
        dep: {m: {c: sorted(n) for c, n in tables[dep][m].items()} for m in sorted(tables[dep])}
        for dep in sorted(tables)
    }
