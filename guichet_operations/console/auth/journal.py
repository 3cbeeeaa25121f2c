"""Sign-ins, failures, lockouts and sign-outs in the store's `actions` table, beside the error queue's
actions and in the same shape (person, role, action, detail with the person's name), so that the
console's journal shows who came in and who tried."""

from __future__ import annotations

import json
from datetime import datetime

from guichet_operations.console.clock import utc_text
from guichet_operations.supervision.store import Store

SIGN_IN, SIGN_IN_FAILED, LOCKED, SIGN_OUT, REFUSED = (
    "connexion",
    "connexion.echec",
    "connexion.verrouillage",
    "deconnexion",
    "connexion.refus",
)
NO_ROLE = "aucun"  # someone who did not sign in has no role; the column is never empty


def journal(
    store: Store, at: datetime, action: str, identifier: str, name: str, role: str | None, **detail: object
) -> None:
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO actions (at, person, role, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            utc_text(at),
            identifier[:200],  # a submitted identifier is whatever was typed: bounded
            role or NO_ROLE,
            action,
            None,
            json.dumps({"name": name[:200], **detail}, ensure_ascii=False),
        )
