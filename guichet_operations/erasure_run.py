"""Erasure across everything the bus keeps: the agencies' registers, the error queue and its archive
on the broker, and the supervision store (docs/retention.md). `guichet retention run` erases what
its period let go; `guichet dossier erase` one dossier, on a decision.

Which dossiers a retention run erases, from the registers it is given:
- closed: the DT-OFII's state has an outcome (the single window ended the procedure), or the
  DT-OFII does not hold the dossier and no register has anything open on it; erased once its last
  change in any register is older than `closed_days`, and no register awaits anything of it;
- open, untouched in every register for `inactive_days`: an abandoned procedure, erased too.
The period runs from the last change anywhere, so that no agency loses a dossier another is still
working on. A dossier erased in one register is erased in all those given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from guichet.bus import Bus
from guichet.register import Register
from guichet.registers import erasure as register_erasure
from guichet.registers.erasure import Erasure, OpenDossier
from guichet.registers.instants import utc_text
from guichet_operations.error_queue_erasure import sweep
from guichet_operations.retention_periods import Periods
from guichet_operations.supervision import retention as store_retention
from guichet_operations.supervision.store import Store

SINGLE_WINDOW = "ofii"  # the register whose outcome says a dossier is closed


@dataclass
class Places:
    """Where the bus keeps personal data, as one run is given them (the broker and store optional)."""

    registers: dict[str, Register]
    bus: Bus | None = None
    store: Store | None = None


@dataclass
class Report:
    """What a run erased, by place: no personal data, ids and counts only."""

    kind: str
    dossiers: list[str] = field(default_factory=list)
    registers: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    broker: dict[str, int] | None = None
    store: dict[str, int] | None = None
    why: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dossiers": self.dossiers,
            "why": self.why,
            "registers": self.registers,
            "broker": self.broker,
            "store": self.store,
        }


def _open_anywhere(registers: dict[str, Register], dossier_id: str) -> list[str]:
    """What the dossier awaits, agency by agency; read without a transaction (no write lock)."""
    return [
        f"{agency}: {what}"
        for agency, register in registers.items()
        for what in register_erasure.still_open(register.read, dossier_id)
    ]


def held_by(registers: dict[str, Register], dossier_id: str) -> list[str]:
    """The agencies whose register knows the dossier at all: a state, a journal record, an erasure."""
    known = (
        "SELECT 1 AS x FROM dossiers WHERE dossier_id = ? UNION ALL SELECT 1 FROM journal WHERE dossier_id = ? "
        "UNION ALL SELECT 1 FROM erasures WHERE dossier_id = ?"
    )
    return [a for a, reg in registers.items() if reg.read(known, dossier_id, dossier_id, dossier_id)]


def due(registers: dict[str, Register], periods: Periods, now: datetime) -> dict[str, str]:
    """The dossiers past their period, each with why (see the module's docstring)."""
    last: dict[str, str] = {}
    outcome: dict[str, str | None] = {}
    for agency, register in registers.items():
        member = register.dialect.json_member("state", "outcome")
        for row in register.read(f"SELECT dossier_id, updated_at, {member} AS outcome FROM dossiers"):
            last[row["dossier_id"]] = max(last.get(row["dossier_id"], ""), row["updated_at"])
            if agency == SINGLE_WINDOW:
                outcome[row["dossier_id"]] = row["outcome"]
    closed_before = utc_text(now - timedelta(days=periods.closed_days))
    inactive_before = utc_text(now - timedelta(days=periods.inactive_days))
    found: dict[str, str] = {}
    for dossier_id, changed in sorted(last.items()):
        if changed >= closed_before:
            continue
        waiting = _open_anywhere(registers, dossier_id)
        closed = outcome.get(dossier_id) is not None or (dossier_id not in outcome and not waiting)
        if closed and not waiting:
            found[dossier_id] = f"closed, last change {changed}: past the {periods.closed_days} days kept after closure"
        elif changed < inactive_before:
            found[dossier_id] = f"open, no change since {changed}: past the {periods.inactive_days} days of inactivity"
    return found


def erased_anywhere(registers: dict[str, Register]) -> set[str]:
    """Every dossier erased in any register given (this run's and earlier ones')."""
    return {r["dossier_id"] for reg in registers.values() for r in reg.read("SELECT dossier_id FROM erasures")}


def erase_everywhere(
    places: Places,
    reasons: dict[str, str],
    kind: str,
    decided_by: str,
    now: datetime,
    force: bool = False,
    periods: Periods | None = None,
) -> Report:
    """Erase the dossiers (id -> why) in every register, then their messages on the broker and
    their rows in the store. A decision on a dossier still open anywhere is refused (OpenDossier,
    nothing erased) unless `force`; a retention run only names open dossiers that are abandoned."""
    report = Report(kind, sorted(reasons), why=dict(reasons))
    if kind == "decision" and not force:
        waiting = [w for d in reasons for w in _open_anywhere(places.registers, d)]
        if waiting:
            raise OpenDossier(
                f"dossier {', '.join(sorted(reasons))} is still open ({'; '.join(waiting)}): erasing it would "
                "leave its procedure unfinished; say --force to erase it anyway (its pending messages are withdrawn)"
            )
    for agency, register in places.registers.items():
        erasures = [Erasure(d, kind, why, decided_by, now) for d, why in sorted(reasons.items())]
        report.registers[agency] = register_erasure.erase(register, erasures, force=True)
    if places.bus is not None:
        archived_before = now - timedelta(days=periods.archive_days) if periods else None
        report.broker = sweep(places.bus, erased_anywhere(places.registers), archived_before).as_dict()
    if places.store is not None:
        report.store = _store(places.store, reasons, kind, decided_by, now, periods)
    return report


def _store(
    store: Store, reasons: dict[str, str], kind: str, person: str, now: datetime, periods: Periods | None
) -> dict[str, int]:
    erased = 0
    for dossier_id, why in sorted(reasons.items()):
        erased += store_retention.erase(store, [dossier_id], kind, why, person, now)
    if periods is None:
        return {"dossiers": erased}
    gone = store_retention.Retention(store, periods.supervision_days, periods.actions_days).run(now)
    if any(gone.values()):
        store.compact(store_retention.ERASED_FROM + ("actions",))
    return {"dossiers": erased, "past_period": gone["dossiers"], "failures": gone["failures"]} | {
        "actions": gone["actions"]
    }
