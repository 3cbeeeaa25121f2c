"""The readable form of a simulation: the French summary of each dossier, then annex 2."""

from __future__ import annotations

from services.directory import Directory
from services.summary import summary

CATEGORIES = {
    "salarie_en_mission": "salariés en mission",
    "competences_et_talents": "compétences et talents",
    "carte_bleue_europeenne": "carte bleue européenne",
    "vie_privee_et_familiale": "vie privée et familiale",
}


def render(result: dict, directory: Directory) -> str:
    lines = []
    for d in result["dossiers"]:
        lines += summary(d, directory) + [""]
    for failed in result.get("failed", []):
        lines += [
            f"Dossier {failed['id']} - non mené à son terme : un message est parti en file d'erreurs "
            f"({failed['agency']}) : {(failed['error'] or '').splitlines()[0] if failed['error'] else '?'}",
            "",
        ]
    report = result.get("biometric_report") or {}
    if report:
        lines.append("Titres produits sans données biométriques (annexe 2)")
        for month, row in report.items():
            year, number = month.split("-")
            lines.append(f"  {number}/{year} : " + ", ".join(f"{CATEGORIES.get(k, k)} {v}" for k, v in row.items()))
    return "\n".join(lines)
