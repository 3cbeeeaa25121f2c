"""Where a dossier stands against its legal deadlines: one rule, from which both the badge and the
sentence are drawn, so that a page can never show a breach and "every step on time" at once.

Employer-side waits (a recours gracieux, the card dossier's missing documents, any wait on the
employer or the worker) have no deadline of the administration's: they are never breaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from guichet_operations.console.clock import parse


@dataclass(frozen=True)
class Standing:
    key: str  # depasse, en_retard, a_temps, clos
    badge: str
    sentence: str


def standing(row: dict, now: datetime, late_steps: list[str] | None = None) -> Standing:
    """`row`: the store's dossier (breached, closed, next_deadline); `late_steps`: the projection's steps
    done past their deadline, when the page has it."""
    deadline = parse(row.get("next_deadline"))
    if row.get("breached") or late_steps:
        return Standing("depasse", "DÉLAI DÉPASSÉ", "Un délai légal a été dépassé : le référent en a été alerté.")
    if deadline is not None and deadline < now and not row.get("closed"):
        return Standing("en_retard", "EN RETARD", "L'étape en cours a passé son délai légal.")
    if row.get("closed"):
        return Standing("clos", "CLOS", "Dossier clos, chaque étape dans ses délais.")
    return Standing("a_temps", "DANS LES DÉLAIS", "Chaque étape dans ses délais à ce jour.")
