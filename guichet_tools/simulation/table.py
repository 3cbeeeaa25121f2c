"""The readable form of a simulation: one block per dossier, its outcome and its steps."""
from __future__ import annotations


def render(result: dict) -> str:
    lines = []
    for d in result["dossiers"]:
        lines.append(f"{d['id']}  {d['route']}  ->  {d['outcome']}")
        facts = [f"SMOE {d['smoe']}" if d["smoe"] else None,
                 f"préfecture {d['prefecture']}" if d["prefecture"] else None,
                 "récépissé" if d["recepisse"] else None,
                 "dépôt tardif" if d["deposit_late"] else None,
                 "seconde convocation" if d["second_convocation"] else None,
                 f"délais dépassés: {', '.join(d['deadline_breaches'])}" if d["deadline_breaches"] else None]
        facts = [f for f in facts if f]
        if facts:
            lines.append("  " + " | ".join(facts))
        if d["titre"]:
            t = d["titre"]
            lines.append(f"  titre {t['kind']} n° {t['number']} du {t['valid_from']} au {t['valid_until']}")
        for f in d["family"]:
            lines.append(f"  famille: {f['role']} -> {f['titre']}")
        lines.append(f"  {'étape':<30} {'de':<11} {'à':<12} {'le':<17} {'délai légal':<17}")
        for s in d["steps"]:
            late = "  EN RETARD" if s["late"] else ""
            lines.append(f"  {s['step']:<30} {s['from']:<11} {s['to'] or '-':<12} {_short(s['at']):<17} "
                         f"{_short(s['deadline']):<17}{late}")
        lines.append("")
    report = result.get("biometric_report") or {}
    if report:
        lines.append("Titres produits sans données biométriques (annexe 2)")
        for month, row in report.items():
            lines.append(f"  {month}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    return "\n".join(lines)


def _short(iso: str | None) -> str:
    return "-" if not iso else iso[:16].replace("T", " ")
