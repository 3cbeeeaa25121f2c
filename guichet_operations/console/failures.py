"""The error queue as the supervision store holds it: failed messages ingested with their headers and
raw body, listed without touching the broker, and what operators did to each.

An action (replay, archive, restore) goes through a `FailureActions` object the console is given:
what must happen outside the store (replay republishes on the broker) is its part; the console then
moves each failure's status, writes its history (`failure_events`) and journals the action under the
person's name (`actions`), in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from guichet.privacy import personal_data, redact_personal_data
from guichet_operations.console.clock import utc_text
from guichet_operations.console.redact import redact_json_text, redacted_body
from guichet_operations.supervision.store import Store

STATUSES = ("en_attente", "rejoue", "archive")
CLAIMED = "rejeu_en_cours"  # a replay under way (supervision/replay.py)
# The status each action moves a failure from, and to.
MOVES = {
    "replay": (("en_attente", "archive"), "rejoue"),
    "archive": (("en_attente",), "archive"),
    "restore": (("archive",), "en_attente"),
}
MAX_SELECTED = 500
SUMMARY = "id, message_id, dossier_id, type, reason, queue, failed_at, ingested_at, status, body_size"


class FailureActions(Protocol):
    """What an action does outside the store; each returns the ids it did, and may raise."""

    def replay(self, failures: list[dict[str, Any]]) -> list[int]: ...

    def archive(self, failures: list[dict[str, Any]]) -> list[int]: ...

    def restore(self, failures: list[dict[str, Any]]) -> list[int]: ...


class StoreOnly:
    """Archive and restore are the store's alone; replay needs the broker, which this one has not."""

    def replay(self, failures: list[dict[str, Any]]) -> list[int]:
        raise RuntimeError("aucun accès au broker : rejouer est impossible depuis cette console")

    def archive(self, failures: list[dict[str, Any]]) -> list[int]:
        return [f["id"] for f in failures]

    def restore(self, failures: list[dict[str, Any]]) -> list[int]:
        return [f["id"] for f in failures]


@dataclass(frozen=True)
class Actor:
    identifier: str
    name: str
    role: str


def counts(store: Store) -> dict[str, int]:
    found = {r["status"]: r["n"] for r in store.rows("SELECT status, COUNT(*) AS n FROM failures GROUP BY status")}
    return {status: int(found.get(status, 0)) for status in STATUSES}


def listing(store: Store, status: str | None, after: int | None, size: int) -> dict[str, Any]:
    """Newest first, by id (ids grow as failures are ingested)."""
    clauses, args = [], []
    if status:
        clauses.append("status = ?")
        args.append(status)
    if after:
        clauses.append("id < ?")
        args.append(after)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = store.rows(f"SELECT {SUMMARY} FROM failures {where} ORDER BY id DESC LIMIT ?", *args, size + 1)
    return {"rows": rows[:size], "next": rows[size - 1]["id"] if len(rows) > size else None}


def detail(store: Store, failure_id: int) -> dict[str, Any] | None:
    rows = store.rows(f"SELECT {SUMMARY}, headers, body FROM failures WHERE id = ?", failure_id)
    if not rows:
        return None
    row = rows[0]
    body = bytes(row.pop("body"))
    shown = redacted_body(body)
    _, values = redact_json_text(body[: 64 * 1024].decode("utf-8", "replace"))
    try:
        headers = json.loads(row.pop("headers"))
    except ValueError:
        headers = {}
    with personal_data([v for v in values if len(v) >= 3]):
        headers = redact_personal_data(None, "", headers if isinstance(headers, dict) else {"headers": headers})
        row = redact_personal_data(None, "", row)
    events = store.rows(
        "SELECT id, at, event, person, detail FROM failure_events WHERE failure_id = ? ORDER BY id", failure_id
    )
    return row | {"headers": headers, "body": shown["text"], "body_cut": shown["cut"], "events": events}


def act(
    store: Store, actions: FailureActions, action: str, ids: list[int], actor: Actor, now: datetime
) -> dict[str, Any]:
    """Do `action` on the failures `ids` that can take it; {"done": [...], "skipped": [...], "error": ...}."""
    sources, target = MOVES[action]
    ids = ids[:MAX_SELECTED]
    marks = ", ".join("?" for _ in ids) or "NULL"
    chosen = store.rows(f"SELECT {SUMMARY} FROM failures WHERE id IN ({marks}) ORDER BY id", *ids)
    eligible = [f for f in chosen if f["status"] in sources]
    error = None
    try:
        done = set(getattr(actions, action)(eligible)) & {f["id"] for f in eligible}
    except Exception as exc:  # the broker refused or is down: what was not done stays, the journal says why
        done = set(getattr(exc, "done", ())) & {f["id"] for f in eligible}
        error = str(exc) if hasattr(exc, "done") else f"{type(exc).__name__}: {exc}"
    # A replay claims its failures first (supervision/replay.py): the claimed state moves on too.
    sources = (*sources, CLAIMED) if action == "replay" else sources
    at = utc_text(now)
    with store.transaction() as tx:
        for failure_id in sorted(done):
            tx.execute(
                f"UPDATE failures SET status = ? WHERE id = ? AND status IN ({', '.join('?' for _ in sources)})",
                target,
                failure_id,
                *sources,
            )
            tx.execute(
                "INSERT INTO failure_events (failure_id, at, event, person, detail) VALUES (?, ?, ?, ?, ?)",
                failure_id,
                at,
                action,
                f"{actor.name} ({actor.identifier})",
                json.dumps({"from": next(f["status"] for f in eligible if f["id"] == failure_id), "to": target}),
            )
        detail_text = {"name": actor.name, "asked": ids, "done": sorted(done), "error": error}
        tx.execute(
            "INSERT INTO actions (at, person, role, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            at,
            actor.identifier,
            actor.role,
            f"failures.{action}",
            ",".join(str(i) for i in ids),
            json.dumps(detail_text, ensure_ascii=False),
        )
    skipped = [f["id"] for f in chosen if f["id"] not in done]
    return {"done": sorted(done), "skipped": skipped, "error": error}


def journal(store: Store, before: int | None, size: int) -> dict[str, Any]:
    where, args = ("WHERE id < ?", [before]) if before else ("", [])
    rows = store.rows(f"SELECT id, at, person, role, action, target, detail FROM actions {where} "
                      "ORDER BY id DESC LIMIT ?", *args, size + 1)  # fmt: skip
    for row in rows:
        try:
            row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        except ValueError:
            pass
    return {"rows": rows[:size], "next": rows[size - 1]["id"] if len(rows) > size else None}
