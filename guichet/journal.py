"""The hash-chained journal: the evidence of when a transmission was sent and received, against
the legal deadlines. Each record carries the hash of the one before, so that editing or deleting
any record breaks the chain from there on; the head (count and last hash) is kept apart, so that
cutting records off the end is seen too. `guichet journal verify` names the first broken record.
The chain is unkeyed (whoever can write the register can recompute it): the agency's signed
anchors of its head make it evidence for others (guichet/journal_anchor.py).

Hash forms. Each record says in its `canonical` column which canonical JSON its hash was computed
over, so that journals written before RFC 8785 keep verifying record by record, and a journal
moves to the new form at the first record appended after the upgrade, with no rewrite:
- `rfc8785-2`: SHA-256 of the RFC 8785 (JCS) canonical JSON of the object {field: value} of
  FIELDS and KEPT_FIELDS plus `"canonical": "rfc8785-2"`, which any language can recompute. The
  record then also proves the message exactly as it was received or sent (`message_hash`: its
  bytes, signature included) and the dossier's state it left (`state_hash`, incoming messages
  processed), both kept beside the record in `journal_messages` (see below);
- `rfc8785`: the same object without KEPT_FIELDS. Written no more, still verified;
- absent (NULL): the legacy form, SHA-256 of Python's compact `json.dumps` of the list of FIELDS'
  values. Written no more; a legacy record after an RFC 8785 one is a broken chain.
Forms only move forward: a record in an older form after a newer one is a broken chain.

What a record keeps besides its hashes. `body_hash` identifies the content (the envelope as this
runtime serialises it: a message resent with other whitespace is still the same message), while
the bytes themselves, as they came or went, are kept in `journal_messages` (`body`, with the state
JSON in `state`) under the record's `seq`. The chain covers them through `message_hash` and
`state_hash`: they can be erased (personal data past its period) and the chain still verifies,
and whatever is kept can be shown to be what the record proves (`kept_problem`).
The form is kept per record rather than once in the head because the head only holds the chain's
end: a per-record form lets a verifier in another language check any record on its own, and,
being inside what the new hash covers, it cannot be switched without the hash failing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from guichet.canonical_json import RFC8785, jcs

GENESIS = "0" * 64
FORM = "canonical"  # the column that says which canonical JSON a record's hash covers
KEPT = "rfc8785-2"  # RFC 8785 over FIELDS and KEPT_FIELDS
CURRENT_FORM = KEPT
# Each form's rank: a record never goes back to an earlier one.
FORMS = {None: 0, RFC8785: 1, KEPT: 2}
# What a record's hash covers, in this order; the message body is covered through its own hash.
FIELDS = (
    "seq",
    "direction",
    "message_id",
    "dossier_id",
    "type",
    "sender",
    "recipient",
    "sent_at",
    "deadline",
    "recorded_at",
    "body_hash",
    "prev_hash",
)
# What the `rfc8785-2` form adds: the hashes of the message's bytes and of the state it left.
KEPT_FIELDS = ("message_hash", "state_hash")


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def text_hash(text: str | None) -> str | None:
    """The hash of a kept text (a message, a state) as its UTF-8 bytes; None for none."""
    return None if text is None else body_hash(text.encode())


def kept_problem(record: dict[str, Any], kept: dict[str, Any] | None) -> str | None:
    """Whether the message and state kept for a record are the ones its hashes prove. An erased
    row (body and state NULL, `erased_at` set) proves nothing and contradicts nothing."""
    if record.get(FORM) != KEPT:
        return None
    if kept is None:
        return f"record {record['seq']} has no kept message (journal_messages)"
    if kept.get("erased_at") is None and text_hash(kept.get("body")) != record.get("message_hash"):
        return f"record {record['seq']}: the message kept is not the one it journaled (message_hash)"
    if kept.get("erased_at") is None and text_hash(kept.get("state")) != record.get("state_hash"):
        return f"record {record['seq']}: the state kept is not the one it journaled (state_hash)"
    return None


def record_hash(record: dict[str, Any]) -> str:
    """The hash of a record in the form its `canonical` field names (see the module's docstring)."""
    form = record.get(FORM)
    if form == KEPT:
        return hashlib.sha256(jcs({**{f: record.get(f) for f in (*FIELDS, *KEPT_FIELDS)}, FORM: KEPT})).hexdigest()
    if form == RFC8785:
        return hashlib.sha256(jcs({**{f: record.get(f) for f in FIELDS}, FORM: RFC8785})).hexdigest()
    if form is not None:
        raise ValueError(f"unknown journal hash form {form!r}")
    legacy = json.dumps([record.get(f) for f in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(legacy.encode()).hexdigest()


@dataclass
class Verdict:
    records: int
    head: str
    broken_seq: int | None = None
    problem: str | None = None
    # What the anchors (guichet/journal_anchor.py) added: how many held, the last record they prove,
    # and whether their signatures were checked against the key directory.
    anchors: int = 0
    anchored: int = 0
    signatures_checked: bool = False

    @property
    def intact(self) -> bool:
        return self.problem is None


class Walk:
    """The chain walked one record at a time, so that a caller streams the journal in batches and
    holds one record in memory, not the whole journal."""

    def __init__(self) -> None:
        self.previous, self.count, self.expected_seq, self.rank = GENESIS, 0, 1, 0

    def step(self, row: dict[str, Any]) -> Verdict | None:
        """The verdict naming this record when its link or hash does not hold; None when it does."""
        seq, previous, count = row["seq"], self.previous, self.count
        if seq != self.expected_seq:
            return Verdict(count, previous, self.expected_seq, f"record {self.expected_seq} is missing (next is {seq})")
        if row["prev_hash"] != previous:
            return Verdict(count, previous, seq, f"record {seq} does not follow record {seq - 1}")
        form = row.get(FORM)
        if form not in FORMS:
            return Verdict(count, previous, seq, f"record {seq} names an unknown hash form {form!r}")
        if FORMS[form] < self.rank:
            return Verdict(
                count,
                previous,
                seq,
                f"record {seq} is in the hash form {form or 'legacy'!r} after records in a later one",
            )
        if record_hash(row) != row["hash"]:
            return Verdict(count, previous, seq, f"record {seq} was altered (its hash does not match its content)")
        self.previous, self.count, self.expected_seq = row["hash"], count + 1, seq + 1
        self.rank = max(self.rank, FORMS[form])
        return None

    def end(self, head: dict[str, Any] | None) -> Verdict:
        count, previous = self.count, self.previous
        if head is not None and (head["records"] != count or head["hash"] != previous):
            return Verdict(
                count,
                previous,
                count + 1,
                f"the journal ends at record {count} but its head says {head['records']} records",
            )
        return Verdict(count, previous)


def verify(rows: Iterable[dict[str, Any]], head: dict[str, Any] | None) -> Verdict:
    """Walk the chain in order; the first record whose link or hash does not hold is named."""
    walk = Walk()
    for row in rows:
        if (broken := walk.step(row)) is not None:
            return broken
    return walk.end(head)
