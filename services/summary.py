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
# What an open dossier waits for (the DT-OFII's `waiting_for`), so that "en cours" says on what.
WAITING = {
    "transmission_smoe": "la transmission de la demande au SMOE par la DT-OFII",
    "transmission_consulat": "la transmission du dossier au consulat par la DT-OFII",
    "decision_autorisation_travail": "la décision sur l'autorisation de travail",
    "recours_gracieux": "un éventuel recours gracieux de l'employeur",
    "decision_recours": "la décision sur le recours gracieux",
    "complement_adresse": "l'adresse complète du travailleur à l'étranger (II.B)",
    "decision_visa": "la décision du consulat sur le visa",
    "decision_competences_talents": "la décision du consul sur la carte compétences et talents",
    "depot_titre": "le dossier de demande de titre de séjour",
    "complements_titre": "les pièces manquantes du dossier de titre de séjour",
    "titre": "la fabrication du titre par la préfecture",
    "presentation_convocation_1": "la présentation du travailleur à la visite médicale",
    "presentation_convocation_2": "la présentation du travailleur à la seconde convocation",
}
# The subject of each information to the employer (ofii.information_employeur).
SUBJECTS = {
    "autorisation_accordee_dossier_transmis_consulat": "autorisation accordée, dossier transmis au consulat",
    "autorisation_refusee": "autorisation de travail refusée",
    "visa_refuse": "visa refusé",
    "hors_guichet_unique": "demande hors guichet unique",
    "adresse_a_completer": "adresse à l'étranger à compléter",
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
        f"  Issue : {label(OUTCOMES, d['outcome'])}"
        + (f" - en attente de {label(WAITING, d['waiting_for'])}" if d.get("waiting_for") else ""),
    ]
    if d.get("outcome_reason"):
        lines.append(f"  Motif du refus : {d['outcome_reason']}")
    if d["route"] != "guichet_unique" and d.get("route_reason"):
        lines.append(f"  Motif : {d['route_reason']}")
    if d.get("missing_documents"):
        lines.append("  Pièces manquantes : " + ", ".join(x.replace("_", " ") for x in d["missing_documents"]))
    employer = d.get("employer")
    if employer:
        lines.append(f"  Employeur : {employer['name']} (SIRET {employer['siret']})")
    lines += _services(d, directory) + _visa(d) + _convocations(d) + _tax(d) + _titre(d)
    until = f", valable jusqu'au {day(d['recepisse_until'])}" if d.get("recepisse_until") else ""
    flags = [
        x
        for x in (
            f"récépissé délivré{until}" if d["recepisse"] else None,
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
    # 2021: the SMOE's work is the platform's (note 2021); its name is in the services line.
    parties = PARTIES | ({"smoe": "plateforme"} if _platforms(d) else {})
    lines.append(f"  {'Étape':<46} {'de':<11} {'à':<12} {'le':<17} délai légal")
    for s in d["steps"]:
        late = "  EN RETARD" if s["late"] else ""
        subject = f"  objet : {label(SUBJECTS, s['subject'])}" if s.get("subject") else ""
        lines.append(
            f"  {label(STEPS, s['step']):<46} {label(parties, s['from']):<11} "
            f"{label(parties, s['to']) if s['to'] else '-':<12} {moment(s['at']):<17} "
            f"{moment(s['deadline']):<17}".rstrip()
            + late
            + subject
        )
    return lines


def _platforms(d: dict) -> bool:
    return d.get("regime") == "plateformes-2021" or str(d.get("smoe")).startswith("plateforme")


def _services(d: dict, directory: Directory) -> list[str]:
    # A refused work authorisation never reaches the consulate (II.A.1): it is competent for nothing.
    consulate = d.get("consulat") if d["outcome"] != "autorisation_travail_refusee" else None
    services = [
        d.get("dt_ofii"),
        (d["smoe"] if _platforms(d) else f"SMOE {d['smoe']}") if d["smoe"] else None,
        consulate,
        directory.prefecture_label(d["prefecture"]) if d["prefecture"] else None,
    ]
    services = [s for s in services if s]
    return ["  Services compétents : " + ", ".join(services)] if services else []


def _visa(d: dict) -> list[str]:
    """II.B, II.C.1: the visa's dates, and the day the card dossier must reach the DT-OFII by."""
    lines = []
    visa = d.get("visa")
    if visa and visa.get("valid_until"):
        mention = f"{visa['mention']}, " if visa.get("mention") else ""
        lines.append(f"  Visa : {mention}valable du {day(visa['valid_from'])} au {day(visa['valid_until'])}")
    if d.get("deposit_limit"):
        lines.append(f"  Dossier de titre de séjour à déposer au plus tard le {day(d['deposit_limit'])}")
    return lines


def _convocations(d: dict) -> list[str]:
    """II.D: each convocation's appointment, beside the day the DT-OFII sent it."""
    dates = d.get("convocations") or []
    if not dates:
        return []
    sent = [s["at"] for s in d.get("steps", []) if s["step"] in ("convocation_visite_medicale", "seconde_convocation")]
    texts = []
    for number, appointment in enumerate(dates):
        when = f"envoyée le {moment(sent[number])} " if number < len(sent) else ""
        texts.append(f"{'seconde convocation' if number else 'convocation'} {when}pour le {moment(appointment)}")
    return ["  Visite médicale OFII : " + ", ".join(texts)]


def _tax(d: dict) -> list[str]:
    if d.get("employer_tax_eur") is None:
        return []
    due = f", à payer au plus tard le {day(d['employer_tax_due_by'])}" if d.get("employer_tax_due_by") else ""
    return [f"  Taxe due par l'employeur : {d['employer_tax_eur']} €{due}"]


def _mention(t: dict) -> str:
    """The card as its regime's texts name it (« passeport talent » under 2021), else the title."""
    return f"carte « {t['mention']} »" if t.get("mention") else label(TITLES, t["kind"])


def _titre(d: dict) -> list[str]:
    lines = []
    t = d.get("titre")
    if t:
        prints = "" if t.get("fingerprints", True) else ", produit sans empreinte"
        lines.append(
            f"  Titre : {_mention(t)} n° {t['number']}, valable du {day(t['valid_from'])} "
            f"au {day(t['valid_until'])}{prints}"
        )
    for f in d.get("family") or []:
        until = f" valable jusqu'au {day(f['valid_until'])}" if f.get("valid_until") else ""
        lines.append(f"  {FAMILY.get((f['role'], f['titre']), f['role'] + ' : ' + f['titre'])}{until}")
    return lines
