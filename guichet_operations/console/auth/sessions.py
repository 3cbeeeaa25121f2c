"""Server-side sessions in the supervision store. The cookie holds only a random id; the store keeps
its SHA-256, the person, when the session began and when it was last used. A session ends when unused
for `session_minutes` or `session_max_hours` after it began, whichever comes first; signing in always
starts a new one (the id before sign-in is never the id after it)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from guichet_operations.console.auth.config import AuthConfig
from guichet_operations.console.auth.people import Person
from guichet_operations.console.clock import parse, utc_text
from guichet_operations.supervision.store import Store

# Writing `seen_at` on every request would make each page a write: once a minute is precise enough.
TOUCH_EVERY = timedelta(minutes=1)


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    id: str  # what the cookie holds; never stored as is
    person: Person | None
    pending: dict[str, Any]


class Sessions:
    def __init__(self, store: Store, config: AuthConfig):
        self.store, self.config = store, config
        self.idle = timedelta(minutes=config.session_minutes)
        self.absolute = timedelta(hours=config.session_max_hours)

    def begin(self, person: Person | None, pending: dict[str, Any] | None = None) -> Session:
        """A new session (a new random id), for a person or, before sign-in, for nobody yet."""
        session_id = secrets.token_urlsafe(32)
        moment = self.config.now()
        now = utc_text(moment)
        with self.store.transaction() as tx:
            # Each new session clears the expired ones, so that sign-in forms opened and left (a session
            # each) do not pile up.
            tx.execute(
                "DELETE FROM sessions WHERE seen_at <= ? OR created_at <= ?",
                utc_text(moment - self.idle),
                utc_text(moment - self.absolute),
            )
            tx.execute(
                "INSERT INTO sessions (id, person, name, role, via, created_at, seen_at, pending) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _key(session_id),
                person.identifier if person else None,
                person.name if person else None,
                person.role if person else None,
                person.via if person else None,
                now,
                now,
                json.dumps(pending or {}),
            )
        return Session(session_id, person, pending or {})

    def find(self, session_id: str) -> Session | None:
        """The live session with this id; an expired one is deleted and is none."""
        rows = self.store.rows(
            "SELECT person, name, role, via, created_at, seen_at, pending FROM sessions WHERE id = ?", _key(session_id)
        )
        if not rows:
            return None
        row, now = rows[0], self.config.now()
        created, seen = parse(row["created_at"]), parse(row["seen_at"])
        assert created is not None and seen is not None
        if now - seen >= self.idle or now - created >= self.absolute:
            self.end(session_id)
            return None
        if now - seen >= TOUCH_EVERY:
            with self.store.transaction() as tx:
                tx.execute("UPDATE sessions SET seen_at = ? WHERE id = ?", utc_text(now), _key(session_id))
        person = Person(row["person"], row["name"], row["role"], row["via"]) if row["person"] else None
        return Session(session_id, person, json.loads(row["pending"] or "{}"))

    def set_pending(self, session_id: str, pending: dict[str, Any]) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE sessions SET pending = ? WHERE id = ?", json.dumps(pending), _key(session_id))

    def end(self, session_id: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM sessions WHERE id = ?", _key(session_id))

    def end_all_of(self, identifier: str) -> int:
        """Every session of a person (their account was disabled)."""
        with self.store.transaction() as tx:
            return int(tx.execute("DELETE FROM sessions WHERE person = ?", identifier).rowcount)


def seen_at(store: Store, session_id: str) -> datetime | None:
    """When a session was last used (for tests and the bench)."""
    rows = store.rows("SELECT seen_at FROM sessions WHERE id = ?", _key(session_id))
    return parse(rows[0]["seen_at"]) if rows else None
