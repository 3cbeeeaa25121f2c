"""What an agent reads of a dossier: the same French summary in `guichet simulate` and in
`guichet dossier show`, drawn from the dossier object of the scenario contract."""

from __future__ import annotations

from datetime import date, datetime

from schemas.steps import Step
from services.directory import Directory

TITLES = {
    "salarie_en_mission": "salarié en mission",
    "competences_et_talents": "compétences et talents",
    "carte_bleue_europeenne": "carte bleue européenne",
    "jeune_professionnel": "jeune professionnel",
    "vie_privee_et_familiale": "vie privée et familiale",
    "autre": "autre titre professionnel",
}
ROUTES = {
    "guichet_unique": "guichet unique OFII",
    "smoe_droit_commun": "hors guichet unique : service de la main-d'œuvre étrangère de droit commun",
    "prefecture_residence": "hors guichet unique : préfecture du lieu de résidence",
}
OUTCOMES = {
    "titre_remis": "titre de séjour remis par l'OFII",
    "titre_a_retirer_en_prefecture": "titre renvoyé à la préfecture, à y retirer",
    "autorisation_travail_refusee": "autorisation de travail refusée",
    "visa_refuse": "visa refusé",
    "dossier_titre_incomplet": "dossier de titre de séjour incomplet",
    "hors_guichet_unique": "hors guichet unique",
    "en_cours": "en cours",
}
# The French label of every step (schemas/steps.py), by its name as the journey records it.
STEPS = {step.value: step.label for step in Step}
PARTIES = {
    "ofii": "DT-OFII",
    "smoe": "SMOE",
    "consulat": "consulat",
    "prefecture": "préfecture",
    "employeur": "employeur",
    "travailleur": "travailleur",
    "ministere": "ministère",
}
FAMILY = {
    ("spouse", "vie_privee_et_familiale"): "Conjoint : carte « vie privée et familiale »",
    ("minor_child", "dcem"): "Enfant mineur : DCEM remis au guichet unique",
    ("minor_child", "dcem_droit_commun"): "Enfant mineur : DCEM selon le droit commun, en préfecture",
}


def day(text: str | None) -> str:
    """21/03/2026, from an ISO date or instant (an instant is already on the Paris clock)."""
    if not text:
        return "-"
    return (datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)).strftime("%d/%m/%Y")


def moment(text: str | None) -> str:
    return datetime.fromisoformat(text).strftime("%d/%m/%Y %H:%M") if text else "-"


def label(table: dict[str, str], key: str | None) -> str:
    """The French label; a name this page does not know yet is shown readable all the same."""
    return "-" if key is None else table.get(key, key.replace("_", " "))


def summary(d: dict, directory: Directory) -> list[str]:
    """The dossier in French, one fact a line, then its steps."""
    lines = [
        f"Dossier {d['id']} - {label(TITLES, d.get('title'))} - {label(ROUTES, d['route'])}",
        f"  Issue : {label(OUTCOMES, d['outcome'])}",
    ]
    if d.get("outcome_reason"):
        lines.append(f"  Motif du refus : {d['outcome_reason']}")
    if d["route"] != "guichet_unique" and d.get("route_reason"):
        lines.append(f"  Motif : {d['route_reason']}")
    if d.get("missing_documents"):
        lines.append("  Pièces manquantes : " + ", ".join(x.replace("_", " ") for x in d["missing_documents"]))
    lines += _services(d, directory) + _convocations(d) + _tax(d) + _titre(d)
    flags = [
        x
        for x in (
            "récépissé délivré" if d["recepisse"] else None,
            "dossier complet déposé hors délai" if d["deposit_late"] else None,
            "titre renvoyé à la préfecture" if d["returned_to_prefecture"] else None,
        )
        if x
    ]
    if d["deadline_breaches"]:
        flags.append("délais dépassés : " + ", ".join(label(STEPS, s) for s in d["deadline_breaches"]))
    if flags:
        text = " ; ".join(flags)
        lines.append("  " + text[0].upper() + text[1:])
    lines.append(f"  {'Étape':<46} {'de':<11} {'à':<12} {'le':<17} délai légal")
    for s in d["steps"]:
        late = "  EN RETARD" if s["late"] else ""
        lines.append(
            f"  {label(STEPS, s['step']):<46} {label(PARTIES, s['from']):<11} "
            f"{label(PARTIES, s['to']) if s['to'] else '-':<12} {moment(s['at']):<17} "
            f"{moment(s['deadline']):<17}".rstrip()
            + late
        )
    return lines


def _services(d: dict, directory: Directory) -> list[str]:
    services = [
        d.get("dt_ofii"),
        (d["smoe"] if str(d["smoe"]).startswith("plateforme") else f"SMOE {d['smoe']}") if d["smoe"] else None,
        d.get("consulat"),
        f"{directory.prefecture_name(d['prefecture'])} ({d['prefecture']})" if d["prefecture"] else None,
    ]
    services = [s for s in services if s]
    return ["  Services compétents : " + ", ".join(services)] if services else []


def _convocations(d: dict) -> list[str]:
    dates = d.get("convocations") or []
    if not dates:
        return []
    line = f"  Visite médicale OFII : convocation le {moment(dates[0])}"
    if len(dates) > 1:
        line += f", seconde convocation le {moment(dates[1])}"
    return [line]


def _tax(d: dict) -> list[str]:
    if d.get("employer_tax_eur") is None:
        return []
    due = f", à payer au plus tard le {day(d['employer_tax_due_by'])}" if d.get("employer_tax_due_by") else ""
    return [f"  Taxe due par l'employeur : {d['employer_tax_eur']} €{due}"]


def _titre(d: dict) -> list[str]:
    lines = []
    t = d.get("titre")
    if t:
        prints = "" if t.get("fingerprints", True) else ", produit sans empreinte"
        lines.append(
            f"  Titre : {label(TITLES, t['kind'])} n° {t['number']}, valable du {day(t['valid_from'])} "
            f"au {day(t['valid_until'])}{prints}"
        )
    for f in d.get("family") or []:
        until = f" valable jusqu'au {day(f['valid_until'])}" if f.get("valid_until") else ""
        lines.append(f"  {FAMILY.get((f['role'], f['titre']), f['role'] + ' : ' + f['titre'])}{until}")
    return lines
