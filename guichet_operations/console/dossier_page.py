"""One dossier as the store holds it: the DT-OFII's projection read as the French summary, every
agency's journal records as one timeline (a message journalled by its sender and its recipient is
one entry), the sequence diagram drawn from it, its refusals, tasks and failed messages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from guichet_operations.console import labels
from guichet_operations.console.board import status
from guichet_operations.console.clock import parse
from guichet_operations.console.failures import SUMMARY
from guichet_operations.console.standing import standing
from guichet_operations.supervision.store import Store
from guichet_operations.view.sequence import FRENCH, drawn, sequence_svg
from services.directory import Directory
from services.summary import summary


def timeline(records: list[dict]) -> list[dict]:
    entries: dict[str, dict] = {}
    for row in records:
        entry = entries.get(row["message_id"])
        if entry is None:
            sent_at, deadline = parse(row["sent_at"]), parse(row["deadline"])
            entry = entries[row["message_id"]] = {
                "message_id": row["message_id"],
                "type": row["type"],
                "sender": row["sender"],
                "recipient": row["recipient"],
                "sent_at": sent_at,
                "deadline": deadline,
                "late": bool(deadline and sent_at and sent_at > deadline),
                "causation_id": row["causation_id"],
                "journalled_by": [],
                "order": (row["sent_at"], row["agency"], row["seq"]),
            }
        entry["journalled_by"].append(f"{labels.party(row['agency'])} ({labels.DIRECTIONS.get(row['direction'], '')})")
        entry["causation_id"] = entry["causation_id"] or row["causation_id"]
    return sorted(entries.values(), key=lambda e: e["order"])


def dossier(
    store: Store, dossier_id: str, directory: Directory, now: datetime, personal: bool
) -> dict[str, Any] | None:
    rows = store.rows("SELECT * FROM dossiers WHERE dossier_id = ?", dossier_id)
    records = store.rows(
        "SELECT agency, seq, direction, message_id, type, sender, recipient, sent_at, deadline, causation_id "
        "FROM records WHERE dossier_id = ? ORDER BY sent_at, agency, seq",
        dossier_id,
    )
    if not rows and not records:
        return None
    row = rows[0] if rows else None
    view = json.loads(row["projection"]) if row else None
    messages = timeline(records)
    alerts = [
        a | {"at": parse(a["at"]), "deadline": parse(a["deadline"])} for a in (view or {}).get("deadline_alerts", [])
    ]
    tasks = store.rows(
        "SELECT agency, task, opened_at, deadline, closed_at, employer_side FROM tasks WHERE dossier_id = ? "
        "ORDER BY opened_at, agency, task",
        dossier_id,
    )
    for task in tasks:
        opened, deadline = parse(task["opened_at"]), parse(task["deadline"])
        open_and_ours = task["closed_at"] is None and not task["employer_side"] and opened and deadline
        task["status"] = status(opened, deadline, now) if open_and_ours else "none"  # type: ignore[arg-type]
        task["left"] = (deadline - now) if deadline and task["closed_at"] is None else None
    refusals = store.rows(
        "SELECT notice_id, party, refused_by, reason, message_id, refused_at FROM refusals WHERE dossier_id = ? "
        "ORDER BY refused_at",
        dossier_id,
    )
    failures = store.rows(f"SELECT {SUMMARY} FROM failures WHERE dossier_id = ? ORDER BY id DESC", dossier_id)
    person = json.loads(row["personal"]) if personal and row and row["personal"] else None
    return {
        "id": dossier_id,
        "row": row and {k: v for k, v in row.items() if k not in ("projection", "personal")},
        "view": view,
        "summary": "\n".join(summary(view, directory)) if view else None,
        "standing": standing(row, now, view.get("deadline_breaches")) if row and view else None,
        "timeline": messages,
        "svg": sequence_svg(messages, alerts, FRENCH, labels.step),
        "arrows": len(drawn(messages)),
        "tasks": tasks,
        "refusals": refusals,
        "failures": failures,
        "personal": person,
        "personal_hidden": bool(row and row["personal"]) and not personal,
    }
