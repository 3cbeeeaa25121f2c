"""The agencies' journal anchors in the supervision store, and what checking them finds.

An anchor (guichet/journal_anchor.py) is an agency's signed statement of its journal's head. The
store keeps each one it receives in an audit copy, under the agency of the copy's routing key, and
checks it against what it already holds, records it took earlier from that agency, which the
agency can no longer change:
- with a key directory, the signature must be the agency's (else `invalid_signature`);
- the records since the previous anchor must follow each other, the first one the record the store
  holds before it (a journal edited and its chain recomputed after the store took it shows here: the
  new records link to a hash the store never had, `chain_rewritten`), and the anchored record's hash
  must be the signed head (`anchor_mismatch`).
Each mismatch is a row of `findings` and counted (`on_finding`); records the store does not hold
(not yet received, or removed by retention) are not judged, and the anchor is kept as `partial`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guichet import journal_anchor
from guichet.journal import GENESIS
from guichet.key_directory import KeyDirectory
from guichet_operations.supervision.store import StoreTransaction


@dataclass(frozen=True)
class Finding:
    agency: str
    seq: int  # the first record the finding is about
    kind: str
    detail: str


def take(
    tx: StoreTransaction,
    agency: str,
    anchors: list[dict[str, Any]],
    directory: KeyDirectory | None,
    at: str,
    on_finding: Callable[[Finding], None] | None = None,
) -> list[Finding]:
    """Keep and check the anchors of a copy published under `agency`; what was found wrong."""
    found: list[Finding] = []
    for anchor in sorted(anchors, key=lambda a: int(a.get("seq") or 0)):
        if not all(isinstance(anchor.get(f), (str, int)) for f in journal_anchor.FIELDS):
            found.append(Finding(agency, int(anchor.get("seq") or 0), "malformed_anchor", "an anchor lacks a field"))
            continue
        seq = int(anchor["seq"])
        if tx.rows("SELECT 1 AS x FROM anchors WHERE agency = ? AND seq = ?", agency, seq):
            continue  # taken before (the same anchor shipped again)
        signature = "unchecked"
        if directory is not None:
            problem = journal_anchor.signature_problem(directory, agency, anchor)
            signature = "invalid" if problem else "valid"
            if problem:
                found.append(Finding(agency, seq, "invalid_signature", f"the anchor of record {seq}: {problem}"))
        chain, finding = _chain(tx, agency, seq, str(anchor["head"]))
        if finding is not None:
            found.append(finding)
        tx.execute(
            "INSERT INTO anchors (agency, seq, head, signed_at, key_id, signature, signature_status, chain_status, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            agency,
            seq,
            anchor["head"],
            anchor["signed_at"],
            anchor["key_id"],
            anchor["signature"],
            signature,
            chain,
            at,
        )
    for finding in found:
        tx.execute(
            "INSERT INTO findings (agency, seq, kind, detail, found_at) VALUES (?, ?, ?, ?, ?)",
            finding.agency,
            finding.seq,
            finding.kind,
            finding.detail[:1000],
            at,
        )
        if on_finding is not None:
            on_finding(finding)
    return found


def _chain(tx: StoreTransaction, agency: str, seq: int, head: str) -> tuple[str, Finding | None]:
    """`held`, `partial` or `broken`, for the records from the previous anchor to this one."""
    before = tx.rows("SELECT MAX(seq) AS seq FROM anchors WHERE agency = ? AND seq < ?", agency, seq)[0]["seq"]
    base = int(before or 0)
    previous: tuple[int, str | None] = (0, GENESIS)
    if base:
        held = tx.rows("SELECT hash FROM records WHERE agency = ? AND seq = ?", agency, base)
        previous = (base, held[0]["hash"] if held else None)
    rows = tx.rows(
        "SELECT seq, hash, prev_hash FROM records WHERE agency = ? AND seq > ? AND seq <= ? ORDER BY seq",
        agency,
        base,
        seq,
    )
    partial = len(rows) != seq - base
    for row in rows:
        follows = previous[0] == row["seq"] - 1 and previous[1] is not None
        if follows and row["prev_hash"] is not None and row["prev_hash"] != previous[1]:
            return "broken", Finding(
                agency,
                row["seq"],
                "chain_rewritten",
                f"record {row['seq']} does not follow record {row['seq'] - 1} as the store holds it: {agency}'s "
                f"journal was changed at or before record {row['seq'] - 1} after the store took it, its chain "
                "recomputed",
            )
        partial = partial or row["prev_hash"] is None  # a record taken before copies carried links
        previous = (row["seq"], row["hash"])
    if rows and rows[-1]["seq"] == seq and rows[-1]["hash"] != head:
        return "broken", Finding(
            agency,
            base + 1,
            "anchor_mismatch",
            f"record {seq} as the store holds it does not have the hash {agency} signed: a record from "
            f"{base + 1} to {seq} differs from the agency's journal",
        )
    return ("partial" if partial else "held"), None
