"""A dossier's proof: what one file must hold for an auditor to check offline, in any language,
what was sent and received about a dossier, byte for byte, and that no agency rewrote it since.

For each agency's journal given, the proof holds:
- `records`: the journal records of the dossier (every field, its hash, its form), and, after
  each, the records up to the first anchor at or after it (guichet/journal_anchor.py). Those other
  records are metadata only (ids, types, parties, instants, hashes; no message, no state): they
  are what links a dossier's record, through the chain, to a head the agency signed;
- `kept`: for the dossier's records, the message exactly as it was received or sent (signature
  included) and the state it left, as journal_messages keeps them (or their erasure);
- `anchors`: the anchors those segments end at, with their signatures.
The receipts (guichet/delivery_receipts.py) are records of the dossier in the sender's journal
(direction `receipt`), with the receipt's bytes kept: they come with it.

What the proof shows is checked by `guichet proof verify` (guichet/proof_check.py), against a key
directory the auditor holds: docs/proof.md describes the format and every check, for a verifier
written elsewhere (connectors/proof-verify-node is one, in Node.js).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from guichet import journal as chain
from guichet.journal_anchor import FIELDS as ANCHOR_FIELDS
from guichet.registers.instants import utc_text

PROOF = "guichet-dossier-proof"
FORMAT = 1
RECORD_FIELDS = (*chain.FIELDS, *chain.KEPT_FIELDS, "hash", chain.FORM)

Rows = Callable[..., list[dict[str, Any]]]


def journal_proof(rows: Rows, dossier_id: str) -> dict[str, Any] | None:
    """One agency's part of the proof, read with `rows(sql, *args)`; None when its journal holds
    nothing of the dossier."""
    mine = rows("SELECT seq FROM journal WHERE dossier_id = ? ORDER BY seq", dossier_id)
    if not mine:
        return None
    seqs = [int(r["seq"]) for r in mine]
    anchors = rows(f"SELECT {', '.join(ANCHOR_FIELDS)} FROM journal_anchors ORDER BY seq")
    anchored = [int(a["seq"]) for a in anchors]
    head = rows("SELECT records FROM journal_head WHERE id = 1")
    last = int(head[0]["records"]) if head else seqs[-1]
    segments = _segments(seqs, anchored, last)
    records: list[dict[str, Any]] = []
    for start, end in segments:
        records.extend(rows("SELECT * FROM journal WHERE seq BETWEEN ? AND ? ORDER BY seq", start, end))
    ends = {end for _, end in segments}
    return {
        "records": [{f: r.get(f) for f in RECORD_FIELDS} for r in records],
        "kept": _kept(rows, seqs),
        "anchors": [{f: a[f] for f in ANCHOR_FIELDS} for a in anchors if int(a["seq"]) in ends],
    }


def _segments(seqs: list[int], anchored: list[int], last: int) -> list[tuple[int, int]]:
    """The stretches of the journal from each of the dossier's records to the first anchor at or
    after it (to the journal's end when none is yet), merged where they meet."""
    merged: list[tuple[int, int]] = []
    for seq in seqs:
        at = bisect.bisect_left(anchored, seq)
        end = anchored[at] if at < len(anchored) else last
        if merged and seq <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((seq, end))
    return merged


def _kept(rows: Rows, seqs: list[int]) -> dict[str, dict[str, Any]]:
    kept: dict[str, dict[str, Any]] = {}
    for at in range(0, len(seqs), 500):
        part = seqs[at : at + 500]
        found = rows(
            "SELECT seq, body, state, erased_at, erasure_reason FROM journal_messages "
            f"WHERE seq IN ({', '.join('?' * len(part))})",
            *part,
        )
        kept.update({str(r["seq"]): {k: v for k, v in r.items() if k != "seq"} for r in found})
    return kept


def dossier_proof(journals: dict[str, Rows], dossier_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The proof of `dossier_id` from the journals of the agencies given (agency -> its rows)."""
    parts = {agency: journal_proof(rows, dossier_id) for agency, rows in journals.items()}
    return {
        "proof": PROOF,
        "format": FORMAT,
        "dossier_id": dossier_id,
        "made_at": utc_text(now or datetime.now(UTC)),
        "journals": {agency: part for agency, part in parts.items() if part is not None},
    }
