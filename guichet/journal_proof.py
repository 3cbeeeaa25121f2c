"""`guichet journal verify` over a register: the chain and its anchors, streamed.

The journal is read in batches of BATCH records (keyset order on `seq`), the anchors likewise, so
that a journal of any size is checked in constant memory. Each record's link and hash are checked
(guichet/journal.py); at each anchor (guichet/journal_anchor.py), the record's hash must be the
head the agency signed, and with a key directory the signature must be the agency's.

Each record in the `rfc8785-2` form must find its message and state kept in journal_messages as
its hashes say (or erased): a kept message altered is named like an altered record.

Which record is named. A record whose own hash or link does not hold is named itself. A chain
that holds but misses a signed head was rewritten (a record edited and every hash after it
recomputed): the records after the last anchor that holds are the ones nothing proves any more,
and the first of them is named.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import Any

from guichet import journal as chain
from guichet.journal_anchor import FIELDS as ANCHOR_FIELDS
from guichet.journal_anchor import signature_problem
from guichet.key_directory import KeyDirectory

BATCH = 5000
# A large journal tells how far the check has gone this often (in records).
PROGRESS_RECORDS = 100_000

Rows = Callable[..., list[dict[str, Any]]]
Progress = Callable[[int, int], None]  # (records checked, records in the head)


def _batches(rows: Rows, sql: str) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        batch = rows(sql, after, BATCH)
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1]["seq"]


def verify_register(
    rows: Rows,
    agency: str,
    directory: KeyDirectory | None = None,
    progress: Progress | None = None,
    outside: list[dict[str, Any]] | None = None,
) -> chain.Verdict:
    """`rows(sql, *args)`: a query's rows on the register (none for a table it does not have: a
    register from before anchors reads as one without any). `outside`: anchors of this agency kept
    by another party (the auditor's copies, guichet/anchor_copies.py), checked with the register's
    own: an anchor deleted from the register, or a chain cut before it, is still seen."""
    head_rows = rows("SELECT records, hash FROM journal_head WHERE id = 1")
    head = head_rows[0] if head_rows else None
    records = _batches(rows, "SELECT * FROM journal WHERE seq > ? ORDER BY seq LIMIT ?")
    anchors = _batches(
        rows, f"SELECT {', '.join(ANCHOR_FIELDS)} FROM journal_anchors WHERE seq > ? ORDER BY seq LIMIT ?"
    )
    if outside:
        theirs = sorted((a for a in outside if a.get("agency", agency) == agency), key=lambda a: int(a["seq"]))
        anchors = heapq.merge(anchors, iter(theirs), key=lambda a: int(a["seq"]))
    kept = _batches(rows, "SELECT seq, body, state, erased_at FROM journal_messages WHERE seq > ? ORDER BY seq LIMIT ?")
    return verify(records, anchors, head, agency, directory, progress, kept)


def verify(
    records: Iterator[dict[str, Any]],
    anchors: Iterator[dict[str, Any]],
    head: dict[str, Any] | None,
    agency: str,
    directory: KeyDirectory | None = None,
    progress: Progress | None = None,
    kept: Iterator[dict[str, Any]] | None = None,
) -> chain.Verdict:
    """`kept`: the rows of journal_messages in `seq` order, each checked against its record's hashes."""
    walk, pending, held, anchored = chain.Walk(), next(anchors, None), 0, 0
    kept_rows = kept if kept is not None else iter(())
    kept_row = next(kept_rows, None)
    total = int(head["records"]) if head else 0

    def verdict(base: chain.Verdict, broken: int | None = None, problem: str | None = None) -> chain.Verdict:
        base.anchors, base.anchored, base.signatures_checked = held, anchored, directory is not None
        if problem is not None:
            base.broken_seq, base.problem = broken, problem
        return base

    for row in records:
        if (broken := walk.step(row)) is not None:
            return verdict(broken)
        while kept_row is not None and kept_row["seq"] < row["seq"]:
            kept_row = next(kept_rows, None)
        here = kept_row if kept_row is not None and kept_row["seq"] == row["seq"] else None
        if (problem := chain.kept_problem(row, here)) is not None:
            return verdict(walk.end(None), row["seq"], problem)
        if progress is not None and walk.count % PROGRESS_RECORDS == 0:
            progress(walk.count, total)
        # Several anchors may prove one record: the register's own and an auditor's copies.
        while pending is not None and pending["seq"] == row["seq"]:
            seq, first_unproven = row["seq"], anchored + 1
            problem = signature_problem(directory, agency, pending) if directory is not None else None
            if problem is not None:
                return verdict(
                    walk.end(None),
                    first_unproven,
                    f"the anchor of record {seq} is not {agency}'s: {problem}; records from {first_unproven} on "
                    "are proven by no anchor",
                )
            if pending["head"] != row["hash"]:
                return verdict(
                    walk.end(None),
                    first_unproven,
                    f"record {seq} does not have the hash {agency} signed at {pending['signed_at']}: a record "
                    f"from {first_unproven} to {seq} was changed and the chain after it recomputed; record "
                    f"{first_unproven} is the first that no anchor proves",
                )
            held, anchored, pending = held + 1, seq, next(anchors, None)
    end = walk.end(head)
    if end.intact and pending is not None:
        return verdict(
            end,
            end.records + 1,
            f"{agency} signed an anchor of record {pending['seq']}, but the journal ends at record {end.records}: "
            "records were cut off its end",
        )
    return verdict(end)
