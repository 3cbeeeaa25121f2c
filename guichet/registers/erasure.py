"""Erasing a dossier's personal data from an agency's register (RGPD art. 17, and art. 5(1)(e) once
its retention period has passed: docs/retention.md), keeping every journal chain verifiable.

What goes, in one transaction:
- the dossier's state (`dossiers`): the row is deleted; the outcome it had is kept in `erasures`;
- its outbox rows: one the broker confirmed keeps its id, type, routing key and instants, its body
  becomes a stub with no payload (`{"erased": true, "causation_id": ...}`: the audit copy still
  links the message to its cause) and its headers `{}`; one not sent yet is withdrawn with its
  reminder, as a closed task's are (only with `force`, for a dossier still open);
- its delayed retries (`delayed`, the embedded transport's): deleted;
- the kept messages of its journal records (`journal_messages`, where the register has it): body
  and state set to NULL, `erased_at` and `erasure_reason` filled; but for signed receipts, which
  hold ids, hashes and a signature, no personal data, and stay the proof of a transmission. The
  journal records themselves hold ids, types, parties, instants and hashes, no personal data: they
  stay, and the chain, which is over the hashes, still verifies;
- its open tasks: closed (a task holds no personal data; an erased dossier awaits nothing).

What stays: one `erasures` row (dossier id, when, retention or decision, why, who decided, the
outcome), itself no personal data. A message arriving later for the dossier is refused with the
reason `dossier_erased` (guichet/agency.py), so that nothing opens it again; its journal record
keeps `withheld(...)` (its ids) as its message, not the message itself.

Deleted rows leave their bytes in the database's free space: on SQLite the erasure runs with
`secure_delete` (freed content overwritten) and is followed by VACUUM (the file rebuilt from what is
live, so that earlier versions of a state row go too) and a checkpoint that empties the write-ahead
log; on PostgreSQL by VACUUM of the tables changed (their dead row versions removed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from guichet.delivery_receipts import NAME as RECEIPT_NAME
from guichet.envelope import Envelope
from guichet.receipt import Refused
from guichet.registers.instants import utc_text
from guichet.registers.transaction import Transaction

if TYPE_CHECKING:
    from guichet.registers.base import Register

ERASED_REASON = "dossier_erased"
KINDS = ("retention", "decision")
Rows = Callable[..., list[dict[str, Any]]]
# Signed receipts (guichet/delivery_receipts.py) stay whole: ids, hashes, instants and the
# receiver's signature, no personal data, and the evidence that a transmission was accepted.
RECEIPTS = f"%.{RECEIPT_NAME}"
# Tables an erasure rewrites or deletes from: the ones VACUUM goes over afterwards.
CHANGED = ("dossiers", "outbox", "delayed", "reminders", "journal_messages")


class OpenDossier(Exception):
    """An erasure decision on a dossier still awaiting something, refused without `force`."""


@dataclass(frozen=True)
class Erasure:
    dossier_id: str
    kind: str  # "retention": its period passed; "decision": an erasure request granted
    reason: str
    decided_by: str
    at: datetime

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(KINDS)}")
        if not self.reason.strip():
            raise ValueError("reason: an erasure says why it was made")
        if not self.decided_by.strip():
            raise ValueError("decided_by: an erasure says who decided it")


def table_names(tx: Transaction) -> set[str]:
    return {row["name"] for row in tx.rows(tx.dialect.table_names)}


def erased(tx: Transaction, dossier_id: str) -> dict[str, Any] | None:
    """The erasure of the dossier, if it was erased."""
    rows = tx.rows("SELECT * FROM erasures WHERE dossier_id = ?", dossier_id)
    return rows[0] if rows else None


def refusal(tx: Transaction, dossier_id: str) -> Refused | None:
    """Why a message for an erased dossier is not let in: it would hold its personal data again."""
    gone = erased(tx, dossier_id)
    if gone is None:
        return None
    return Refused(
        ERASED_REASON,
        f"dossier {dossier_id} was erased on {gone['erased_at']} ({gone['kind']}): this agency holds no "
        "personal data of it any more and takes no message for it",
    )


def withheld(message_id: str | None, dossier_id: str | None) -> str:
    """What stands for a message refused because its dossier was erased, where the message itself
    would be kept (the journal's kept message, the error queue's filing): its ids, no payload."""
    return json.dumps({"erased": True, "message_id": message_id, "dossier_id": dossier_id})


def kept_message(tx: Transaction, envelope: Envelope, received: bytes | str | None) -> bytes | str | None:
    """What the journal keeps of a message not let in (refused, or an id used again): for one of an
    erased dossier, `withheld(...)` (its ids), so that the refusal keeps none of the person's data;
    else the message as received."""
    if erased(tx, envelope.dossier_id) is not None:
        return withheld(str(envelope.message_id), envelope.dossier_id)
    return received


def still_open(rows: Rows, dossier_id: str) -> list[str]:
    """What the dossier still awaits here: its open tasks and its messages not sent yet. `rows`: a
    query's rows, in a transaction (`tx.rows`) or a read of its own (`Register.read`)."""
    open_tasks = "SELECT task FROM tasks WHERE dossier_id = ? AND closed_at IS NULL ORDER BY task"
    tasks = [r["task"] for r in rows(open_tasks, dossier_id)]
    unsent = rows("SELECT COUNT(*) AS n FROM outbox WHERE dossier_id = ? AND published_at IS NULL", dossier_id)
    n = int(unsent[0]["n"])
    return [f"task {t}" for t in tasks] + ([f"{n} message(s) not sent yet"] if n else [])


def erase_in(tx: Transaction, erasure: Erasure, force: bool = False) -> dict[str, int]:
    """Erase one dossier in `tx`; how many rows of each kind changed. Refused (OpenDossier) for a
    dossier that awaits something, unless `force`."""
    dossier_id, now = erasure.dossier_id, utc_text(erasure.at)
    waiting = still_open(tx.rows, dossier_id)
    if waiting and not force:
        raise OpenDossier(
            f"dossier {dossier_id} is still open at this agency ({', '.join(waiting)}): erasing it would "
            "leave its procedure unfinished; say --force to erase it anyway (its pending messages are withdrawn)"
        )
    states = tx.rows("SELECT state FROM dossiers WHERE dossier_id = ?", dossier_id)
    outcome = json.loads(states[0]["state"]).get("outcome") if states else None
    counts = {"states": len(states)}
    unsent = [r["message_id"] for r in tx.rows(_UNSENT, dossier_id)]
    for message_id in unsent:
        tx.execute("DELETE FROM reminders WHERE message_id = ?", message_id)
        tx.execute("DELETE FROM outbox WHERE message_id = ? AND published_at IS NULL", message_id)
    counts["withdrawn"] = len(unsent)
    rows = tx.rows("SELECT id, body FROM outbox WHERE dossier_id = ? AND type NOT LIKE ?", dossier_id, RECEIPTS)
    sent = [r for r in rows if not r["body"].startswith(STUB_START)]  # not those an earlier erasure left
    for row in sent:
        tx.execute("UPDATE outbox SET body = ?, headers = '{}' WHERE id = ?", _stub(row["body"]), row["id"])
    counts["outbox"] = len(sent)
    tx.execute("UPDATE tasks SET closed_at = ? WHERE dossier_id = ? AND closed_at IS NULL", now, dossier_id)
    tx.execute("DELETE FROM reminders WHERE dossier_id = ?", dossier_id)
    counts["delayed"] = _delete_delayed(tx, dossier_id)
    counts["journal_messages"] = _erase_kept_messages(tx, dossier_id, now, erasure.reason)
    tx.execute("DELETE FROM dossiers WHERE dossier_id = ?", dossier_id)
    tx.execute(
        "INSERT INTO erasures (dossier_id, erased_at, kind, reason, decided_by, outcome) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (dossier_id) DO NOTHING",
        dossier_id,
        now,
        erasure.kind,
        erasure.reason,
        erasure.decided_by,
        outcome,
    )
    return counts


_UNSENT = "SELECT message_id FROM outbox WHERE dossier_id = ? AND published_at IS NULL"


STUB_START = '{"erased": true'


def _stub(body: str) -> str:
    """What an erased outbox row's body keeps: that it was erased, and the message's cause (no payload)."""
    try:
        cause = json.loads(body).get("causation_id")
    except (ValueError, AttributeError):
        cause = None
    return json.dumps({"erased": True, "causation_id": cause})


def _delete_delayed(tx: Transaction, dossier_id: str) -> int:
    """The delayed retries have no dossier column: their bodies say which dossier they carry."""
    gone = 0
    for row in tx.rows("SELECT id, body FROM delayed"):
        try:
            of = json.loads(row["body"]).get("dossier_id")
        except (ValueError, AttributeError):
            continue
        if of == dossier_id:
            tx.execute("DELETE FROM delayed WHERE id = ?", row["id"])
            gone += 1
    return gone


def _erase_kept_messages(tx: Transaction, dossier_id: str, now: str, reason: str) -> int:
    """The journal's kept messages, where the register has them: the hashes the records hold stay."""
    if "journal_messages" not in table_names(tx):
        return 0
    cur = tx.execute(
        "UPDATE journal_messages SET body = NULL, state = NULL, erased_at = ?, erasure_reason = ? "
        "WHERE seq IN (SELECT seq FROM journal WHERE dossier_id = ? AND type NOT LIKE ?) AND erased_at IS NULL",
        now,
        reason,
        dossier_id,
        RECEIPTS,
    )
    return int(cur.rowcount or 0)


def erase(register: Register, erasures: Iterable[Erasure], force: bool = False) -> dict[str, dict[str, int]]:
    """Erase each dossier in a transaction of its own, then clear the freed space once: by dossier,
    what changed. An open dossier refused (OpenDossier) stops the run; those before it are erased."""
    done: dict[str, dict[str, int]] = {}
    register.secure_delete(True)
    try:
        for erasure in erasures:
            with register.transaction() as tx:
                done[erasure.dossier_id] = erase_in(tx, erasure, force)
    finally:
        register.secure_delete(False)
        if done:
            register.compact(CHANGED)
    return done
