"""What a receiver judges for itself before any handler runs: the time of receipt on its own clock,
whether the sender's date can be believed, and whether its own register lets the message in.

The parties of a bus are separate administrations whose systems others wrote. A receiver believes
neither the sender's clock nor the sender's idea of where a dossier stands:
- every step is dated by the receiver's clock at receipt; the sender's `sent_at` is kept in the
  journal beside the time of receipt, and a disagreement beyond the tolerance adds a record of its
  own (`in_clock_skew`), so that both dates stay in the evidence;
- a message dated ahead of the receiver's clock by more than the tolerance, or older than the
  freshness window, is refused (`Freshness`);
- an agency says, dossier by dossier, what it accepts (`Gate`, built by each agency from the law):
  a message for a dossier it does not hold, at a step the dossier is not at, or from a party not
  competent for it, changes nothing and is refused with its reason; a resend of what the register
  holds already is absorbed.

A refusal writes nothing but one journal record (`in_refused`), and the message's id is not kept
as processed, so that a replay once the dossier is where the message belongs finds it new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from guichet.envelope import Envelope
from guichet.journal import body_hash
from guichet.message import Message

if TYPE_CHECKING:
    from guichet.clock import Clock
    from guichet.register import Transaction

log = structlog.get_logger("guichet.receipt")

# The journal's directions for what a receiver did not process as an ordinary delivery.
REFUSED = "in_refused"  # refused before its handler: nothing else was written
ABSORBED = "in_absorbed"  # the same act again under another message id: nothing changed
CLOCK_SKEW = "in_clock_skew"  # processed, but dated far from the time it was received
REUSED_ID = "in_reused_id"  # an id processed before with another content
SIGNATURE_REFUSED = "in_signature_refused"  # not signed by a key of its sender valid at receipt


@dataclass(frozen=True)
class Refused:
    """Why a message is not let in: `reason` names the failure group, `error` says it to a person."""

    reason: str
    error: str


@dataclass(frozen=True)
class Absorbed:
    """The message repeats what the register already holds (a filing sent again under a new id)."""

    what: str


Verdict = Refused | Absorbed | None


class Gate(Protocol):
    """An agency's state machine, as the runtime consults it before a handler runs."""

    def judge(self, message: Message, envelope: Envelope, state: Any | None) -> Verdict:
        """`state`: the dossier as the register holds it, None when the agency does not hold it."""

    def admitted(self, message: Message, envelope: Envelope, state: Any, opened: bool) -> None:
        """Called once a message is let in, before its handler: what the gate must remember of it
        (the content of the message that opened the dossier, for instance)."""


@dataclass(frozen=True)
class Opening:
    """The least an agency without a state machine of its own checks: a message that does not open a
    dossier must find it in the register. No `opening` messages named: every message is let in."""

    agency: str
    opening: tuple[type[Message], ...] = ()

    def judge(self, message: Message, envelope: Envelope, state: Any | None) -> Verdict:
        if state is None and self.opening and not isinstance(message, self.opening):
            return Refused(
                "unknown_dossier", f"{envelope.type} for dossier {envelope.dossier_id!r}, unknown to {self.agency}"
            )
        return None

    def admitted(self, message: Message, envelope: Envelope, state: Any, opened: bool) -> None:
        return None


@dataclass(frozen=True)
class Freshness:
    """How far a sender's date may stray from the receiver's clock.

    `tolerance`: a sender's clock ahead of the receiver's by less than this is an ordinary
    disagreement between two servers (five minutes: the usual bound between synchronised systems,
    Kerberos' own); ahead by more, the date is impossible and the message refused. Further behind
    than it, the message waited somewhere (a queue while its consumer was down, a delayed retry,
    the late relay, an operator's replay): processed, dated at receipt, and the gap journaled.
    `real_tolerance`: on a compressed clock (`--time-scale`) a legal day passes in a fraction of a
    second, and two hosts' clocks may differ by milliseconds, i.e. hours of legal time: the
    tolerance is never less than this much real time.
    `window`: a message older than this, in real time, is refused. A year: beyond any time a
    delivery legitimately waits (the longest legal period of the flow is six months), so that a
    transmission kept in a queue for weeks while its consumer was down is still let in, but not a
    message dated years back."""

    tolerance: timedelta = timedelta(minutes=5)
    real_tolerance: timedelta = timedelta(seconds=2)
    window: timedelta = timedelta(days=366)

    def _limit(self, scale: float) -> timedelta:
        return max(self.tolerance, self.real_tolerance * scale)

    def judge(self, envelope: Envelope, now: datetime, scale: float = 1.0) -> Refused | None:
        ahead = envelope.sent_at - now
        if ahead > self._limit(scale):
            return Refused(
                "dated_in_future",
                f"{envelope.type} for dossier {envelope.dossier_id!r} is dated "
                f"{envelope.sent_at.isoformat()}, {_span(ahead)} ahead of the receiver's clock "
                f"({now.isoformat()}); at most {_span(self._limit(scale))} is tolerated",
            )
        if -ahead > self.window * scale:
            return Refused(
                "stale",
                f"{envelope.type} for dossier {envelope.dossier_id!r} is dated "
                f"{envelope.sent_at.isoformat()}, {_span(-ahead)} before its receipt at "
                f"{now.isoformat()}: older than the window of {_span(self.window)}",
            )
        return None

    def skewed(self, envelope: Envelope, now: datetime, scale: float = 1.0) -> bool:
        """The sender's date and the time of receipt disagree beyond the tolerance (either way)."""
        return abs(now - envelope.sent_at) > self._limit(scale)


def clock_scale(clock: Clock) -> float:
    """Legal seconds per real second: 1 for the system's clock and the simulator's virtual one."""
    return float(getattr(clock, "scale", 1.0))


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds:.0f} s"


def journal_once(
    tx: Transaction, direction: str, envelope: Envelope, now: datetime, received: bytes | str | None = None
) -> None:
    """One record per message and outcome: a refused message handled again alone after its batch,
    or delivered again, is not journaled twice. `received`: the delivery's bytes, kept with the record."""
    if not tx.journaled(str(envelope.message_id), direction, body_hash(envelope.body())):
        tx.journal(direction, envelope, now, received=received)


def duplicate_id(
    tx: Transaction, envelope: Envelope, now: datetime, received: bytes | str | None = None
) -> Refused | None:
    """A message id seen before: the same message again changes nothing (None); another content under
    the same id (a sender's bug, or a forgery) is not processed either, but it is not dropped without a
    trace: the journal records it, a warning says so, and it goes to the error queue."""
    first = tx.received_body_hash(str(envelope.message_id))
    incoming = body_hash(envelope.body())
    if first is None or first == incoming:
        log.info("duplicate skipped")
        return None
    journal_once(tx, REUSED_ID, envelope, now, received)
    log.warning("message id reused with another content, not processed", first_body_hash=first, body_hash=incoming)
    return Refused(
        "message_id_reused",
        f"message id {envelope.message_id} was processed before with another "
        f"content (body hash {first[:12]}..., now {incoming[:12]}...)",
    )


def file_verdict(
    tx: Transaction, verdict: Refused | Absorbed, envelope: Envelope, now: datetime, received: bytes | str | None = None
) -> None:
    """What a message not let in leaves behind: one journal record. A refused one's id is not kept
    as processed, so that a replay once the dossier is where the message belongs finds it new; an
    absorbed one's is (it was handled: a redelivery is an ordinary duplicate)."""
    if isinstance(verdict, Refused):
        tx.unclaim_processed(envelope)
        journal_once(tx, REFUSED, envelope, now, received)
        log.warning("message refused", reason=verdict.reason, error=verdict.error)
    else:
        journal_once(tx, ABSORBED, envelope, now, received)
        log.info("resend absorbed", what=verdict.what)


def judge(
    freshness: Freshness,
    gate: Gate,
    message: Message,
    envelope: Envelope,
    state: Any | None,
    now: datetime,
    scale: float,
) -> Verdict:
    """Before any handler: the sender's date against the receiver's clock, then the dossier as the
    receiver's register holds it against the agency's state machine."""
    return freshness.judge(envelope, now, scale) or gate.judge(message, envelope, state)


def note_skew(
    tx: Transaction,
    freshness: Freshness,
    envelope: Envelope,
    now: datetime,
    scale: float,
    received: bytes | str | None = None,
) -> None:
    """A message processed and dated at its receipt, whose sender dated it far from then: a record of
    its own beside the ordinary one, both carrying the sender's date and the time of receipt."""
    if freshness.skewed(envelope, now, scale):
        tx.journal(CLOCK_SKEW, envelope, now, received=received)
        log.warning(
            "sender's date far from the time of receipt",
            sent_at=envelope.sent_at.isoformat(),
            received_at=now.isoformat(),
        )
