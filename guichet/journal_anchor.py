"""Anchors: the agency's signature over its journal's head, so that an edit is seen by whoever
never had write access to the register.

The hash chain alone is unkeyed: whoever can write the register edits a record and recomputes every
hash after it, and the chain holds again. An anchor is the statement "record `seq` of `agency`'s
journal has hash `head`", signed at `signed_at` with the agency's own Ed25519 key (the one its
envelopes are signed with, guichet/trust.py). It is kept in the register (`journal_anchors`) and
shipped to the supervision service inside the audit copies (guichet/audit_copy.py), whose store
keeps it apart from the register.

What it proves: every record up to `seq` is as it was when the anchor was signed; an edit of any
of them, chain recomputed or not, no longer reaches the signed head. What it does not: records
after the last anchor are proven by nothing but the chain, and an edit made before an anchor was
signed is signed with it. Whoever holds the agency's private key can sign anchors of their own.

The signed bytes are RFC 8785 canonical JSON of the anchor without its `signature` member, as for
envelopes (guichet/canonical_json.py), with `kind` naming what is signed: the signature of an
anchor cannot be taken for an envelope's, nor the reverse. One signature per anchor, made at most
every `every_records` records or `every_seconds` seconds from the service's loop, never per record.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from guichet.canonical_json import RFC8785, jcs
from guichet.key_directory import KeyDirectory
from guichet.registers.instants import utc_text

if TYPE_CHECKING:
    from guichet.register import Register
    from guichet.trust import Trust

log = structlog.get_logger("guichet.journal")

KIND = "journal_anchor"
# An anchor at least every this many records, and, with records not yet anchored, at least this
# often: a quiet agency's last records are proven within seconds, a busy one's every 100 records.
EVERY_RECORDS = 100
EVERY_SECONDS = 5.0
# The register's head is read for an anchor at most this often: not at each turn of the loop.
CHECK_SECONDS = 1.0
# What an anchor holds besides its signature, as the register, the copy and the store keep it.
FIELDS = ("seq", "head", "signed_at", "key_id", "signature")


def statement(agency: str, seq: int, head: str, signed_at: str, key_id: str) -> dict[str, Any]:
    """The anchor as signed (its `signature` added beside)."""
    return {
        "kind": KIND,
        "canonical": RFC8785,
        "agency": agency,
        "seq": seq,
        "head": head,
        "signed_at": signed_at,
        "key_id": key_id,
    }


def signed_bytes(agency: str, anchor: dict[str, Any]) -> bytes:
    return jcs(statement(agency, int(anchor["seq"]), anchor["head"], anchor["signed_at"], anchor["key_id"]))


def sign(trust: Trust, agency: str, seq: int, head: str, at: datetime) -> dict[str, Any] | None:
    """The anchor of record `seq` signed with the agency's key valid at `at`; None without one."""
    entry = trust.signing_key(agency, at)
    if entry is None:
        return None
    anchor = {"seq": seq, "head": head, "signed_at": utc_text(at), "key_id": entry.key_id}
    signature = trust.private[entry.key_id].sign(signed_bytes(agency, anchor))
    return {**anchor, "signature": base64.b64encode(signature).decode()}


def signature_problem(directory: KeyDirectory, agency: str, anchor: dict[str, Any]) -> str | None:
    """Why the anchor's signature does not prove it is the agency's; None when it does. A key
    withdrawn since still proves an anchor signed while it was valid: an anchor is evidence kept."""
    directory.refresh()
    entry = directory.get(str(anchor.get("key_id")))
    if entry is None or entry.party != agency:
        return f"key {anchor.get('key_id')!r} is not a key of {agency} in the key directory"
    try:
        if not entry.valid_at(datetime.fromisoformat(str(anchor["signed_at"]))):
            return f"key {entry.key_id} was not valid at {anchor['signed_at']}"
        Ed25519PublicKey.from_public_bytes(base64.b64decode(entry.public_key)).verify(
            base64.b64decode(str(anchor["signature"])), signed_bytes(agency, anchor)
        )
    except (InvalidSignature, ValueError, KeyError, TypeError) as exc:
        return f"its signature does not match its content ({type(exc).__name__})"
    return None


@dataclass
class Anchorer:
    """Signs the journal's head from the service's loop when enough records or time have passed."""

    agency: str
    register: Register
    trust: Trust
    every_records: int = EVERY_RECORDS
    every_seconds: float = EVERY_SECONDS
    _checked: float = 0.0
    _anchored: float = field(default_factory=time.monotonic)
    _no_key_said: bool = False

    def last(self) -> int:
        rows = self.register.read("SELECT MAX(seq) AS seq FROM journal_anchors")
        return int(rows[0]["seq"] or 0) if rows else 0

    def anchor_if_due(self, now: datetime | None = None, force: bool = False) -> dict[str, Any] | None:
        """`force`: anchor whatever is not yet anchored (the service stopping), without waiting."""
        if not force and time.monotonic() - self._checked < CHECK_SECONDS:
            return None
        self._checked = time.monotonic()
        head = self.register.read("SELECT records, hash FROM journal_head WHERE id = 1")
        if not head or int(head[0]["records"]) == 0:
            return None
        seq, last = int(head[0]["records"]), self.last()
        waited = time.monotonic() - self._anchored >= self.every_seconds
        if seq <= last or not (force or waited or seq - last >= self.every_records):
            return None
        anchor = sign(self.trust, self.agency, seq, head[0]["hash"], now or datetime.now(UTC))
        if anchor is None:
            if not self._no_key_said:  # said once: the journal goes on, unanchored
                log.warning("journal not anchored: no signing key of the agency", agency=self.agency)
                self._no_key_said = True
            return None
        with self.register.transaction() as tx:
            # Two processes of one agency may anchor the same head: the first one's is kept.
            tx.execute(
                f"INSERT INTO journal_anchors ({', '.join(FIELDS)}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (seq) DO NOTHING",
                *(anchor[f] for f in FIELDS),
            )
        self._anchored = time.monotonic()
        return anchor
