"""What the console writes, in French: the labels come from the one table of each (services/summary.py,
itself drawn from schemas/steps.py), the dates on the Paris clock, `21/03/2026 09:00`."""

from __future__ import annotations

from datetime import datetime, timedelta

from guichet.timeutil import paris
from guichet_operations.console.clock import parse
from services.summary import OUTCOMES, PARTIES, STEPS, TITLES, label

FAILURE_STATUSES = {"en_attente": "en attente", "rejoue": "rejoué", "archive": "archivé"}
TASK_STATUSES = {"breach": "délai dépassé", "warning": "échéance proche", "ok": "dans les délais", "none": "sans délai"}
ACTIONS = {"replay": "rejouer", "archive": "archiver", "restore": "restaurer"}
ACTIONS_DONE = {"replay": "rejoué", "archive": "archivé", "restore": "restauré"}
# What the journal of actions names each action (console/failures.py, console/auth/journal.py).
JOURNALED = {
    "failures.replay": "rejeu de messages en erreur",
    "failures.archive": "archivage de messages en erreur",
    "failures.restore": "restauration de messages archivés",
    "connexion": "connexion",
    "connexion.echec": "échec de connexion",
    "connexion.verrouillage": "compte verrouillé",
    "connexion.refus": "connexion refusée",
    "deconnexion": "déconnexion",
}
PERSONAL_FIELDS = {"surname": "nom", "given_names": "prénoms", "nationality": "nationalité"}
ROLES = {"lecture": "lecture", "agent": "agent", "operateur": "opérateur", "administrateur": "administrateur"}
DIRECTIONS = {"out": "envoyé", "in": "reçu", "receipt": "accusé de réception reçu"}
# What the supervision store found wrong with an agency's journal (supervision/anchors.py).
FINDINGS = {
    "chain_rewritten": "journal réécrit après coup, chaîne recalculée",
    "anchor_mismatch": "enregistrement différent de celui que l'agence a signé",
    "invalid_signature": "ancre dont la signature n'est pas celle de l'agence",
    "malformed_anchor": "ancre incomplète",
}


def when(moment: datetime | str | None) -> str:
    if isinstance(moment, str):
        moment = parse(moment)
    return paris(moment).strftime("%d/%m/%Y %H:%M") if moment else "—"


def duration(delta: timedelta | None) -> str:
    """`2 j 3 h restants`, `dépassé de 5 h 10 min`."""
    if delta is None:
        return "—"
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    text = f"{days} j {rest // 3600} h" if days else f"{rest // 3600} h {rest % 3600 // 60} min"
    return f"dépassé de {text}" if delta < timedelta(0) else f"{text} restants"


def step(name: str | None) -> str:
    return label(STEPS, name)


def title(name: str | None) -> str:
    return label(TITLES, name)


def outcome(name: str | None) -> str:
    return label(OUTCOMES, name)


def party(name: str | None) -> str:
    return label(PARTIES, name)


def message_type(name: str | None) -> str:
    """`ofii.transmission_smoe` read as its step, `transmission au SMOE`."""
    if not name:
        return "—"
    return step(name.split(".", 1)[1] if "." in name else name)


FILTERS = {
    "when": when,
    "duration": duration,
    "step": step,
    "title": title,
    "outcome": outcome,
    "party": party,
    "message_type": message_type,
    "failure_status": lambda s: FAILURE_STATUSES.get(s, s),
    "task_status": lambda s: TASK_STATUSES.get(s, s),
    "action": lambda s: ACTIONS_DONE.get(s, s),
    "journaled": lambda s: JOURNALED.get(s, s),
    "role": lambda s: ROLES.get(s, s),
    "personal_field": lambda s: PERSONAL_FIELDS.get(s, s),
    "finding": lambda s: FINDINGS.get(s, s),
}
