"""A dossier's row in the supervision store: the DT-OFII's description of it, and what every
agency's tasks add (who holds it now, its next legal deadline). One rule decides each column, so
that the list, the filters and the dossier page cannot contradict each other:
- `breached`: a deadline alert of a breach kind was raised (II.E.1: the référent was told);
- `next_deadline`: the earliest legal deadline among the open tasks of an administration; a wait
  on the employer or the worker (`tasks.employer_side`) is never one, so never a breach;
- `step`: what the dossier waits for, else the open task due first, else its last step;
- `holder`: the agency of that open task; the DT-OFII while a dossier waits on a person.
"""

from __future__ import annotations

import json
from typing import Any

from guichet_operations.supervision.store import StoreTransaction

# A breach the référent was told of (II.E.1): the deadline passed while the step was pending.
BREACH_KINDS = ("depassement", "transmission_en_retard")


def upsert_description(tx: StoreTransaction, d: dict[str, Any], source_seq: int) -> None:
    """The DT-OFII's description, unless a later one is there already (a copy redelivered late)."""
    p = d["projection"]
    titre = p.get("titre") or {}
    alerts = p.get("deadline_alerts") or []
    outcome = p.get("outcome") or "en_cours"
    tx.execute(
        "INSERT INTO dossiers (dossier_id, title, route, outcome, closed, step, holder, departement, prefecture, "
        "smoe, consulat, dt_ofii, siret, agdref_number, filed_at, updated_at, next_deadline, breached, alerts, "
        "projection, personal, source_seq) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, "
        "?, ?, ?) ON CONFLICT (dossier_id) DO UPDATE SET title = excluded.title, route = excluded.route, "
        "outcome = excluded.outcome, closed = excluded.closed, departement = excluded.departement, "
        "prefecture = excluded.prefecture, smoe = excluded.smoe, consulat = excluded.consulat, "
        "dt_ofii = excluded.dt_ofii, siret = excluded.siret, agdref_number = excluded.agdref_number, "
        "filed_at = excluded.filed_at, updated_at = excluded.updated_at, breached = excluded.breached, "
        "alerts = excluded.alerts, projection = excluded.projection, personal = excluded.personal, "
        "source_seq = excluded.source_seq WHERE excluded.source_seq >= dossiers.source_seq",
        d["dossier_id"],
        p.get("title"),
        p.get("route"),
        outcome,
        0 if outcome == "en_cours" else 1,
        d.get("departement"),
        p.get("prefecture"),
        p.get("smoe"),
        p.get("consulat"),
        p.get("dt_ofii"),
        d.get("siret"),
        titre.get("agdref_number"),
        d.get("filed_at"),
        d["updated_at"],
        1 if any(a.get("kind") in BREACH_KINDS for a in alerts) else 0,
        len(alerts),
        json.dumps(p, ensure_ascii=False, separators=(",", ":")),
        json.dumps(d["personal"], ensure_ascii=False) if d.get("personal") else None,
        source_seq,
    )


def recompute(tx: StoreTransaction, dossier_id: str) -> None:
    """Step, holder and next deadline from the open tasks of every agency, once they are in."""
    rows = tx.rows("SELECT closed, projection FROM dossiers WHERE dossier_id = ?", dossier_id)
    if not rows:
        return  # the DT-OFII's copy has not come yet; it recomputes when it does
    projection = json.loads(rows[0]["projection"])
    tasks = tx.rows(
        "SELECT agency, task, deadline, employer_side FROM tasks WHERE dossier_id = ? AND closed_at IS NULL "
        "ORDER BY deadline IS NULL, deadline, agency, task",
        dossier_id,
    )
    official = [t for t in tasks if not t["employer_side"]]
    dated = [t for t in official if t["deadline"]]
    waiting = projection.get("waiting_for")
    steps = projection.get("steps") or []
    first = (official or tasks or [None])[0]
    step = waiting or (first["task"] if first else None) or (steps[-1]["step"] if steps else None)
    closed = bool(rows[0]["closed"])
    holder = official[0]["agency"] if official else (None if closed else "ofii")
    tx.execute(
        "UPDATE dossiers SET step = ?, holder = ?, next_deadline = ? WHERE dossier_id = ?",
        step,
        holder,
        dated[0]["deadline"] if dated else None,
        dossier_id,
    )
