"""The deadline board: every open task with a legal deadline of the administration's, at risk first
(the earliest deadline first: those passed, then those closest), with the deadline watch's own
warning threshold (services/deadline_watch.py). Employer-side waits are not on it: they are never
breaches."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from guichet_operations.console.clock import parse, utc_text
from guichet_operations.console.dossiers import COUNT_CAP, BadQuery
from guichet_operations.supervision.store import Store
from services.deadline_watch import WARNING_MIN, WARNING_SHARE

OPEN = "t.closed_at IS NULL AND t.employer_side = 0 AND t.deadline IS NOT NULL"


def status(opened_at: datetime, deadline: datetime, now: datetime) -> str:
    left = deadline - now
    if left < timedelta(0):
        return "breach"
    return "warning" if left <= max((deadline - opened_at) * WARNING_SHARE, WARNING_MIN) else "ok"


def _cursor(row: dict) -> str:
    raw = json.dumps([row["deadline"], row["agency"], row["dossier_id"], row["task"]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def board(store: Store, now: datetime, after: str | None, size: int, agency: str | None = None) -> dict[str, Any]:
    clauses, args = [OPEN], []
    if agency:
        clauses.append("t.agency = ?")
        args.append(agency)
    base_clauses, base_args = list(clauses), list(args)
    if after:
        try:
            key = json.loads(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)))
        except ValueError:
            raise BadQuery("curseur de page illisible : revenez à la première page") from None
        clauses.append("(t.deadline, t.agency, t.dossier_id, t.task) > (?, ?, ?, ?)")
        args += [str(k) for k in key][:4]
    rows = store.rows(
        "SELECT t.agency, t.dossier_id, t.task, t.opened_at, t.deadline, d.title, d.departement, d.step "
        f"FROM tasks t LEFT JOIN dossiers d ON d.dossier_id = t.dossier_id WHERE {' AND '.join(clauses)} "
        "ORDER BY t.deadline, t.agency, t.dossier_id, t.task LIMIT ?",
        *args,
        size + 1,
    )
    more = len(rows) > size
    rows = rows[:size]
    for row in rows:
        opened, deadline = parse(row["opened_at"]), parse(row["deadline"])
        assert opened is not None and deadline is not None
        row["status"], row["left"] = status(opened, deadline, now), deadline - now
    where = " AND ".join(base_clauses)
    breaches = store.rows(
        f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM tasks t WHERE {where} AND t.deadline < ? LIMIT ?) capped",
        *base_args,
        utc_text(now),
        COUNT_CAP + 1,
    )[0]["n"]
    return {
        "rows": rows,
        "next": _cursor(rows[-1]) if rows and more else None,
        "breaches": min(breaches, COUNT_CAP),
        "breaches_capped": breaches > COUNT_CAP,
    }


def sources(store: Store, real_now: datetime) -> list[dict[str, Any]]:
    """Each agency's last audit copy: when, how far behind the supervision is, its queues, and the
    state of its journal's anchors."""
    out = []
    for row in store.rows("SELECT agency, seq, bus_now, time_scale, received_at, queues FROM sources ORDER BY agency"):
        received = parse(row["received_at"])
        try:
            queues = json.loads(row["queues"]) if row["queues"] else {}
        except ValueError:
            queues = {}
        out.append(
            row
            | {
                "lag": (real_now - received) if received else None,
                "queues": queues,
                "journal": journal(store, row["agency"]),
            }
        )
    return out


FINDINGS_SHOWN = 5


def journal(store: Store, agency: str) -> dict[str, Any]:
    """How far the agency's signed anchors prove its journal as the store holds it, and what the
    store found wrong with it (guichet_operations/supervision/anchors.py): a breach an operator sees."""
    held = store.rows(
        "SELECT COUNT(*) AS n, MAX(seq) AS seq FROM anchors WHERE agency = ? AND signature_status = 'valid' "
        "AND chain_status = 'held'",
        agency,
    )[0]
    last = store.rows(
        "SELECT seq, signed_at, signature_status, chain_status FROM anchors WHERE agency = ? ORDER BY seq DESC LIMIT 1",
        agency,
    )
    found = store.rows("SELECT COUNT(*) AS n FROM findings WHERE agency = ?", agency)[0]["n"]
    findings = store.rows(
        f"SELECT seq, kind, detail, found_at FROM findings WHERE agency = ? ORDER BY id DESC LIMIT {FINDINGS_SHOWN}",
        agency,
    )
    return {
        "anchors_held": int(held["n"] or 0),
        "proven_up_to": held["seq"],
        "last_anchor": last[0] if last else None,
        "findings_count": int(found or 0),
        "findings": findings,
    }
