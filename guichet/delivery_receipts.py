"""Signed receipts: the receiving agency's proof, to the sender, that a transmission was accepted.

AS4's non-repudiation of receipt is the model. When an agency processes a message another
administration sent it, it returns in the same transaction (its outbox) an envelope of type
`<receiver>.accuse_reception`, addressed to the sender and signed with the receiver's key like
every envelope, which says: the message `message_id`, whose bytes as received hash to
`message_hash`, was accepted at `received_at` on the receiver's clock, and is record `record_seq`
of the receiver's journal, of hash `record_hash`. The sender keeps it with the message: the
receipt's bytes in its own journal (direction `receipt`, kept in journal_messages) and the link
message → receipt in its `receipts` table. A dossier's proof (`guichet dossier proof`) carries
them: a receiver cannot later deny what its signature acknowledged, nor a sender claim it sent
other bytes than those the receipt hashes.

The sender believes a receipt only as far as it can check it: its signature is the receiver's (the
runtime's ordinary signature check, before this module sees it), it names a message this agency
sent to that very receiver, and its hash is that of the bytes this agency published (its outbox
row). Anything else is refused with the reason (`receipt_mismatch`), journaled and filed like any
refusal; a receipt is never receipted in turn.

Receipts are exchanged only between the parties an agency definition names (`receipts_with`: the
administrations) and only with signatures on: without a key a receipt would prove nothing.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from pydantic import Field

from guichet.envelope import Envelope, Sender, wrap
from guichet.journal import text_hash
from guichet.message import Message, MessageRegistry
from guichet.outcome import Outcome
from guichet.receipt import journal_once

if TYPE_CHECKING:
    from guichet.register import Transaction

log = structlog.get_logger("guichet.receipts")

NAME = "accuse_reception"
RECEIPT = "receipt"  # the journal's direction for a receipt kept by the sender
RECEIPT_REFUSED = "receipt_refused"  # a receipt that does not match what this agency sent
HASH = r"^[0-9a-f]{64}$"


class AccuseReception(Message):
    """What a receipt's payload says; one subclass per receiver and sender (`receipt_class`)."""

    message_id: UUID = Field(description="The id of the message acknowledged")
    type: str = Field(max_length=100, description="Its type")
    message_hash: str = Field(
        pattern=HASH, description="SHA-256 (hex) of the message's bytes exactly as the receiver received them"
    )
    received_at: datetime = Field(description="When the receiver accepted it, on the receiver's clock")
    record_seq: int = Field(ge=1, description="The receiver's journal record of its receipt")
    record_hash: str = Field(pattern=HASH, description="That record's hash in the receiver's journal")


def receipt_type(receiver: str) -> str:
    return f"{receiver}.{NAME}"


def is_receipt(type_: str) -> bool:
    return type_.endswith(f".{NAME}") and type_.count(".") == 1


@lru_cache(maxsize=64)
def receipt_class(receiver: str, sender: str) -> type[AccuseReception]:
    """The receipt `receiver` returns to `sender`: a class of its own, so that the ordinary codec
    holds its type, its sender and its recipient to the parties it may pass between."""
    return type(
        f"AccuseReception_{receiver}_{sender}",
        (AccuseReception,),
        {
            "TYPE": receipt_type(receiver),
            "SENDER": receiver,
            "RECIPIENT": sender,
            "__module__": __name__,
            "__doc__": f"A signed receipt: {receiver} acknowledges to {sender} a transmission it accepted.\n\n"
            f"Returned in the transaction that processed the message, signed with {receiver}'s key. "
            f"{sender} keeps it with the message it sent, after checking that the message is one it sent "
            f"to {receiver} and that `message_hash` is the SHA-256 of the bytes it published; never "
            "acknowledged in turn.",
        },
    )


def with_receipts(messages: MessageRegistry, agency: str, parties: frozenset[str]) -> MessageRegistry:
    """`messages` and the receipts `agency` may receive from `parties`."""
    if not parties:
        return messages
    receipts = [receipt_class(party, agency) for party in sorted(parties) if party != agency]
    return MessageRegistry([*messages.values(), *receipts])


def wanted(agency: str, parties: frozenset[str], envelope: Envelope) -> bool:
    """Whether a message processed by `agency` is acknowledged: one from another of `parties`."""
    sender = envelope.sender.agency
    return sender != agency and sender in parties and not is_receipt(envelope.type)


def receipt_for(agency: str, office: str | None, envelope: Envelope, record: dict[str, Any], now: datetime) -> Envelope:
    """The receipt of the message `envelope`, journaled by `agency` as `record`, unsigned."""
    payload = receipt_class(agency, envelope.sender.agency)(
        message_id=envelope.message_id,
        type=envelope.type,
        message_hash=record["message_hash"],
        received_at=now,
        record_seq=record["seq"],
        record_hash=record["hash"],
    )
    return wrap(
        payload,
        dossier_id=envelope.dossier_id,
        sender=Sender(agency=agency, office=office),
        sent_at=now,
        causation_id=envelope.message_id,
    )


def keep(
    tx: Transaction, agency: str, envelope: Envelope, receipt: AccuseReception, received: Any, now: datetime
) -> Outcome:
    """A receipt arrived, its id claimed as processed (Agency.apply): kept with the message it
    acknowledges, or refused with the reason."""
    problem = mismatch(tx, agency, envelope, receipt)
    if problem is not None:
        # As a refused message: journaled once, its id not kept, so that a replay is judged again.
        tx.unclaim_processed(envelope)
        journal_once(tx, RECEIPT_REFUSED, envelope, now, received)
        log.warning("receipt refused", error=problem, acknowledged=str(receipt.message_id))
        return Outcome("rejected", envelope, reason="receipt_mismatch", error=problem)
    record = tx.journal(RECEIPT, envelope, now, received=received)
    tx.execute(
        "INSERT INTO receipts (message_id, receiver, receipt_id, journal_seq, kept_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (message_id) DO NOTHING",
        str(receipt.message_id),
        envelope.sender.agency,
        str(envelope.message_id),
        record["seq"],
        record["recorded_at"],
    )
    return Outcome("processed", envelope)


def mismatch(tx: Transaction, agency: str, envelope: Envelope, receipt: AccuseReception) -> str | None:
    """Why this receipt does not acknowledge a message this agency sent, as it sent it; None if it does.
    The bytes sent are known by the journal's `out` record (its `message_hash` outlives an erasure of
    the dossier's personal data, which replaces the outbox body), else by the outbox row, the message
    as published: a receipt can arrive before the broker's confirm of the message is recorded."""
    receiver = envelope.sender.agency
    rows = tx.rows("SELECT routing_key, body FROM outbox WHERE message_id = ?", str(receipt.message_id))
    if not rows:
        return f"{receiver} acknowledges message {receipt.message_id}, which {agency} never sent"
    row = rows[0]
    if not row["routing_key"].startswith(f"{receiver}."):
        return f"{receiver} acknowledges message {receipt.message_id}, which {agency} sent to another party"
    journaled = tx.rows(
        "SELECT message_hash FROM journal WHERE message_id = ? AND direction = 'out' ORDER BY seq LIMIT 1",
        str(receipt.message_id),
    )
    sent = journaled[0]["message_hash"] if journaled and journaled[0]["message_hash"] else text_hash(row["body"])
    if sent is not None and sent != receipt.message_hash:
        return (
            f"{receiver} acknowledges message {receipt.message_id} with the hash {receipt.message_hash[:12]}..., "
            f"not that of the bytes {agency} sent"
        )
    return None
