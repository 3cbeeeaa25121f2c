"""The shared key directory: which party holds which Ed25519 public key, valid from when to when,
and for an employer, which employer (its SIRET, the entry's `subject`).

A running service does not read it once: it looks at the file again at most every
RELOAD_SECONDS (one `stat`), and reads it again when its inode, size or modification time
changed, or at once after SIGHUP (`reload_soon`). So a key withdrawn in the directory is refused
by every receiver within RELOAD_SECONDS of the new file being in place. Writers replace the file
whole (a temporary file renamed over it), so a reader never sees half a directory; a directory
that cannot be read is held empty until it can (every signature refused, nothing signed), never
left at its previous content, which may hold a key that was just withdrawn.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from guichet.configuration import ConfigurationError

log = structlog.get_logger("guichet.trust")

# The longest a receiver goes on judging by a directory that was replaced: a withdrawn key is
# refused at most this long after the new file is in place.
RELOAD_SECONDS = 1.0
# Parties whose keys each speak for one of them, named in the key's subject and in the envelope's
# `sender.office`: the employers' portal signs for the employer it authenticated, with that
# employer's own key, so that one employer cannot sign for another.
SUBJECT_PARTIES = frozenset({"employeur"})
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


class KeyDirectoryError(ConfigurationError):
    """The directory's file cannot be read or is not a key directory."""


@dataclass(frozen=True)
class KeyEntry:
    party: str
    key_id: str
    public_key: str
    valid_from: datetime
    valid_until: datetime | None = None
    subject: str | None = None

    def valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment and not self.withdrawn_at(moment)

    def withdrawn_at(self, moment: datetime) -> bool:
        return self.valid_until is not None and moment >= self.valid_until

    def as_json(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "key_id": self.key_id,
            "public_key": self.public_key,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            **({"subject": self.subject} if self.subject is not None else {}),
        }


def _entries(text: str) -> list[KeyEntry]:
    raw = json.loads(text)
    return [
        KeyEntry(
            e["party"],
            e["key_id"],
            e["public_key"],
            datetime.fromisoformat(e["valid_from"]),
            datetime.fromisoformat(e["valid_until"]) if e.get("valid_until") else None,
            e.get("subject") or None,
        )
        for e in raw["keys"]
    ]


class KeyDirectory:
    def __init__(self, path: str | Path, reload_seconds: float = RELOAD_SECONDS):
        self.path = Path(path)
        self.reload_seconds = reload_seconds
        self.unreadable: str | None = None  # why the last reading failed; the entries are empty meanwhile
        self._reload_soon = False
        self._seen: tuple[int, int, int, int] | None = None
        self._checked = time.monotonic()
        self.entries: list[KeyEntry] = []
        if self.path.exists():
            try:
                self._read()
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise KeyDirectoryError(f"key directory {self.path}: {type(exc).__name__}: {exc}") from None

    def _read(self) -> None:
        with open(self.path, encoding="utf-8") as f:
            seen = _signature(os.fstat(f.fileno()))
            entries = _entries(f.read())
        self.entries, self._seen, self.unreadable = entries, seen, None

    def reload_soon(self, *_: object) -> None:
        """Look at the file at the next use, whatever the delay (a SIGHUP handler: sets a flag only)."""
        self._reload_soon = True

    def refresh(self) -> None:
        """Read the file again if it changed since it was read, looking at most every reload_seconds."""
        now = time.monotonic()
        if not self._reload_soon and now - self._checked < self.reload_seconds:
            return
        self._checked, self._reload_soon = now, False
        try:
            seen = _signature(os.stat(self.path))
        except OSError as exc:
            seen, why = None, f"{type(exc).__name__}: {exc}"
        if seen == self._seen:
            return
        self._seen = seen
        if seen is None:
            self._fail(why)
            return
        try:
            self._read()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        log.info("key directory reloaded", path=str(self.path), keys=len(self.entries))

    def _fail(self, why: str) -> None:
        self.entries, self.unreadable = [], why
        log.error(
            "key directory unreadable: every signature is refused until it is repaired", path=str(self.path), error=why
        )

    def get(self, key_id: str) -> KeyEntry | None:
        return next((e for e in self.entries if e.key_id == key_id), None)

    def valid(self, party: str, moment: datetime, subject: str | None = None) -> list[KeyEntry]:
        """The party's keys valid at `moment` (for `subject` only, or those without one), newest first."""
        found = [e for e in self.entries if e.party == party and e.subject == subject and e.valid_at(moment)]
        return sorted(found, key=lambda e: e.valid_from, reverse=True)

    def current(self, party: str, moment: datetime, subject: str | None = None) -> KeyEntry | None:
        valid = self.valid(party, moment, subject)
        return valid[0] if valid else None

    def withdraw(self, key_id: str, at: datetime) -> KeyEntry:
        """End a key at `at` (or keep the earlier end it already has)."""
        entry = self.get(key_id)
        if entry is None:
            raise KeyDirectoryError(f"no key {key_id!r} in {self.path}")
        ends = at if entry.valid_until is None else min(entry.valid_until, at)
        ended = replace(entry, valid_until=ends)
        self.entries = [ended if e is entry else e for e in self.entries]
        return ended

    def save(self) -> None:
        """Replace the file whole: a service reading it meanwhile sees the old one or the new one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"keys": [e.as_json() for e in self.entries]}, indent=2)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # public keys: every receiver reads them
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextmanager
def editing(path: str | Path) -> Iterator[KeyDirectory]:
    """Read, change and save the directory under a lock, so that two `guichet keys` at once do not
    lose one another's change; saved only if the block ends without an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        directory = KeyDirectory(path)
        yield directory
        directory.save()


def _signature(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns
