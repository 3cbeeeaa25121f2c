"""`guichet proof verify`: a dossier's proof (guichet/dossier_proof.py) checked offline, with
nothing but the file and a key directory the auditor holds. docs/proof.md lists the checks, in
this order, for a verifier written in another language:

1. every record's hash is recomputed from its fields in the form it names (guichet/journal.py),
   and each record directly after another links to it (`prev_hash`);
2. every anchor is signed by its agency's key, valid when it was signed, and its `head` is the
   hash of the record at its `seq`;
3. every record of the dossier reaches an anchor through records that link one to the next: a
   record no signed head proves is named;
4. every message kept for a record of the dossier hashes to its `message_hash` (its state to
   `state_hash`), unless erased; the envelope it is carries its sender's valid signature at the
   time it was recorded (non-repudiation of origin);
5. every receipt kept by a sender names a message that sender's journal sent to the receipt's
   signer, with the same `message_hash` (non-repudiation of receipt); where the receiver's journal
   is in the proof too, its record of the message has that hash, and is the record the receipt
   names.
A message sent to another administration without a receipt is said, not counted as a failure:
the receiver may not have taken it yet, or may run a connector that sends none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guichet import delivery_receipts as receipts
from guichet import journal as chain
from guichet.dossier_proof import FORMAT, PROOF
from guichet.envelope import Envelope, PermanentError
from guichet.journal_anchor import signature_problem
from guichet.key_directory import KeyDirectory
from guichet.trust import Trust


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return not self.problems


def verify_proof(proof: dict[str, Any], directory: KeyDirectory) -> Report:
    report = Report()
    if proof.get("proof") != PROOF or proof.get("format") != FORMAT:
        report.problems.append(f"not a dossier proof of format {FORMAT} (proof {proof.get('proof')!r})")
        return report
    dossier_id = str(proof.get("dossier_id"))
    journals = proof.get("journals") or {}
    trust = Trust(directory, None)
    incoming: dict[str, dict[str, dict[str, Any]]] = {}  # agency -> message_id -> its `in` record
    for agency, part in journals.items():
        records = {int(r["seq"]): r for r in part.get("records", [])}
        incoming[agency] = {r["message_id"]: r for r in records.values() if r["direction"] == "in"}
        _chain(agency, records, part.get("anchors", []), directory, dossier_id, report)
        _kept(agency, records, part.get("kept", {}), trust, dossier_id, report)
    for agency, part in journals.items():
        _receipts(agency, {**part, "dossier_id": dossier_id}, incoming, report)
    return report


def _chain(
    agency: str,
    records: dict[int, dict[str, Any]],
    anchors: list[dict[str, Any]],
    directory: KeyDirectory,
    dossier_id: str,
    report: Report,
) -> None:
    for seq, record in sorted(records.items()):
        if record.get(chain.FORM) not in chain.FORMS:
            report.problems.append(f"{agency}: record {seq} names an unknown hash form")
        elif chain.record_hash(record) != record["hash"]:
            report.problems.append(f"{agency}: record {seq} was altered (its hash does not match its content)")
        before = records.get(seq - 1)
        if before is not None and record["prev_hash"] != before["hash"]:
            report.problems.append(f"{agency}: record {seq} does not follow record {seq - 1}")
    proven: dict[int, str] = {}
    for a in anchors:
        seq = int(a["seq"])
        problem = signature_problem(directory, agency, a)
        if problem is not None:
            report.problems.append(f"{agency}: the anchor of record {seq} is not {agency}'s: {problem}")
        elif seq not in records or records[seq]["hash"] != a["head"]:
            report.problems.append(f"{agency}: record {seq} does not have the hash {agency} signed")
        else:
            proven[seq] = a["head"]
    mine = [seq for seq, r in sorted(records.items()) if r["dossier_id"] == dossier_id]
    for seq in mine:
        at = seq
        while at not in proven and at + 1 in records:
            at += 1
        if at not in proven:
            report.problems.append(f"{agency}: record {seq} of the dossier reaches no anchor {agency} signed")
    report.checked[agency] = len(mine)


def _kept(
    agency: str,
    records: dict[int, dict[str, Any]],
    kept: dict[str, dict[str, Any]],
    trust: Trust,
    dossier_id: str,
    report: Report,
) -> None:
    for seq, record in sorted(records.items()):
        if record["dossier_id"] != dossier_id:
            continue
        here = kept.get(str(seq))
        if (problem := chain.kept_problem(record, here)) is not None:
            report.problems.append(f"{agency}: {problem}")
            continue
        if here is None or here.get("erased_at") is not None or here.get("body") is None:
            if here is not None and here.get("erased_at") is not None:
                report.facts.append(f"{agency}: record {seq}: message erased ({here.get('erasure_reason')})")
            continue
        if (problem := _origin(here["body"], record, trust)) is not None:
            report.problems.append(f"{agency}: record {seq}: {problem}")


def _origin(body: str, record: dict[str, Any], trust: Trust) -> str | None:
    """Whether the kept message carries its sender's signature, judged when it was recorded."""
    try:
        envelope = Envelope.model_validate_json(body)
    except ValueError:
        return "the message kept is not an envelope"
    if str(envelope.message_id) != record["message_id"]:
        return "the message kept is not the one the record names"
    try:
        trust.verify(envelope, datetime.fromisoformat(record["recorded_at"]), body)
    except PermanentError as exc:
        return f"the sender's signature does not hold ({exc.reason}: {exc})"
    return None


def _receipts(
    agency: str, part: dict[str, Any], incoming: dict[str, dict[str, dict[str, Any]]], report: Report
) -> None:
    records = {int(r["seq"]): r for r in part.get("records", [])}
    kept = part.get("kept", {})
    sent = {r["message_id"]: r for r in records.values() if r["direction"] == "out"}
    acknowledged: set[str] = set()
    for seq, record in sorted(records.items()):
        body = (kept.get(str(seq)) or {}).get("body")
        if record["direction"] != receipts.RECEIPT or body is None:
            continue
        payload = json.loads(body)["payload"]
        receiver, message_id = record["sender"], payload["message_id"]
        out = sent.get(message_id)
        if out is None:
            # The message may have been journaled as sent after the segment this proof holds.
            report.facts.append(f"{agency}: receipt of {receiver} for message {message_id}, not sent in this proof")
            continue
        if out["recipient"] != receiver or out.get("message_hash") != payload["message_hash"]:
            report.problems.append(
                f"{agency}: the receipt of {receiver} for message {message_id} does not acknowledge the bytes sent"
            )
            continue
        acknowledged.add(message_id)
        theirs = incoming.get(receiver, {}).get(message_id)
        if theirs is not None and (
            theirs.get("message_hash") != payload["message_hash"]
            or (int(theirs["seq"]), theirs["hash"]) != (payload["record_seq"], payload["record_hash"])
        ):
            report.problems.append(
                f"{receiver}: its record of message {message_id} is not the one its receipt to {agency} names"
            )
        report.facts.append(f"{agency}: message {out['type']} to {receiver} acknowledged at {payload['received_at']}")
    for message_id, out in sent.items():
        expected = out["recipient"] != agency and not receipts.is_receipt(out["type"])
        if expected and out["dossier_id"] == part.get("dossier_id") and message_id not in acknowledged:
            report.facts.append(f"{agency}: message {out['type']} to {out['recipient']}: no receipt in this proof")
        if message_id not in acknowledged and out["recipient"] in incoming and out["recipient"] != agency:
            theirs = incoming[out["recipient"]].get(message_id)
            if theirs is not None and theirs.get("message_hash") != out.get("message_hash"):
                report.problems.append(
                    f"{out['recipient']}: received other bytes than {agency} sent for message {message_id}"
                )
