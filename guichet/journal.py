"""The hash-chained journal: the evidence of when a transmission was sent and received, against
the legal deadlines. Each record carries the hash of the one before, so that editing or deleting
any record breaks the chain from there on; the head (count and last hash) is kept apart, so that
cutting records off the end is seen too. `guichet journal verify` names the first broken record.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

GENESIS = "0" * 64
# What a record's hash covers, in this order; the message body is covered through its own hash.
FIELDS = ("seq", "direction", "message_id", "dossier_id", "type", "sender", "recipient", "sent_at", "deadline",
          "recorded_at", "body_hash", "prev_hash")


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def record_hash(record: dict[str, Any]) -> str:
    canonical = json.dumps([record.get(f) for f in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Verdict:
    records: int
    head: str
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(rows: Iterable[dict[str, Any]], head: dict[str, Any] | None) -> Verdict:
    """Walk the chain in order; the first record whose link or hash does not hold is named."""
    previous, count, expected_seq = GENESIS, 0, 1
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return Verdict(count, previous, expected_seq, f"record {expected_seq} is missing (next is {seq})")
        if row["prev_hash"] != previous:
            return Verdict(count, previous, seq, f"record {seq} does not follow record {seq - 1}")
        if record_hash(row) != row["hash"]:
            return Verdict(count, previous, seq, f"record {seq} was altered (its hash does not match its content)")
        previous, count, expected_seq = row["hash"], count + 1, seq + 1
    if head is not None and (head["records"] != count or head["hash"] != previous):
        return Verdict(count, previous, count + 1,
                       f"the journal ends at record {count} but its head says {head['records']} records")
    return Verdict(count, previous)
