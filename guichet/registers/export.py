"""Everything an agency's register holds on one dossier, for an access request (RGPD art. 15):
`guichet dossier export` gathers it from each register (guichet_operations/dossier_export.py).

Read as the register finds it, with the read-only reader's `rows`: its state, its outbox messages
(envelopes as sent, headers), the journal's records and the messages it kept (`journal_messages`,
where the register has it), its tasks, its reminders, and its erasure if it was erased. An erased
dossier exports its erasure and the records of its journal, which hold no personal data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Rows = Callable[..., list[dict[str, Any]]]


def _json(text: str | None) -> Any:
    """A JSON column as the value it holds; text that is not JSON as it is, NULL as None."""
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def register_export(rows: Rows, dossier_id: str) -> dict[str, Any] | None:
    """The dossier as one register holds it; None when the register holds nothing of it."""
    states = rows("SELECT state, updated_at FROM dossiers WHERE dossier_id = ?", dossier_id)
    outbox = rows(
        "SELECT message_id, routing_key, type, body, headers, due_at, published_at FROM outbox "
        "WHERE dossier_id = ? ORDER BY id",
        dossier_id,
    )
    journal = rows("SELECT * FROM journal WHERE dossier_id = ? ORDER BY seq", dossier_id)
    kept = rows(
        "SELECT m.seq, m.body, m.state, m.erased_at, m.erasure_reason FROM journal_messages m "
        "JOIN journal j ON j.seq = m.seq WHERE j.dossier_id = ? ORDER BY m.seq",
        dossier_id,
    )
    tasks = rows(
        "SELECT task, opened_at, deadline, closed_at FROM tasks WHERE dossier_id = ? ORDER BY task", dossier_id
    )
    erasure = rows("SELECT erased_at, kind, reason, decided_by, outcome FROM erasures WHERE dossier_id = ?", dossier_id)
    if not (states or outbox or journal or tasks or erasure):
        return None
    return {
        "state": _json(states[0]["state"]) if states else None,
        "state_updated_at": states[0]["updated_at"] if states else None,
        "outbox": [r | {"body": _json(r["body"]), "headers": _json(r["headers"])} for r in outbox],
        "journal": journal,
        "journal_messages": [r | {"body": _json(r["body"]), "state": _json(r["state"])} for r in kept],
        "tasks": tasks,
        "erasure": erasure[0] if erasure else None,
    }
