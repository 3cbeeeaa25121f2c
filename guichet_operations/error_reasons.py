"""Every `x-guichet-error-reason` a message filed in the error queue may carry, with what it means.

Three sources, all read from the code where it can be:
- refusals raised as exceptions: every subclass of `PermanentError` (guichet/envelope.py,
  guichet/trust.py, guichet/admission.py, and any other module imported), found by walking the
  subclasses, each naming its own `reason`;
- refusals of the gates that let a message into a dossier (`Refused(reason, ...)`,
  guichet/receipt.py, services/state_machine.py) and the failures of handling and relaying
  (guichet/delivery.py, guichet/agency.py, guichet/late_relay.py): plain strings there, listed in
  `OTHER_REASONS` (a test checks that every `Refused("...")` of the code is listed);
- the broker's own dead-letter reasons (`x-death`), which the late relay files as they are.
"""

from __future__ import annotations

import guichet.admission
import guichet.envelope
import guichet.trust  # noqa: F401  # imported for its PermanentError subclasses
from guichet.envelope import PermanentError

# One line each, for a connector author reading why its message was refused.
DESCRIPTIONS = {
    "permanent": "A message no retry can make succeed (no more precise reason).",
    "undecodable": "The body is not a JSON envelope the bus can read.",
    "wrong_content_type": "The AMQP content_type is not application/json.",
    "unknown_type": "The `type` is not a message type of the contract.",
    "unsupported_version": "The `version` is above the one this receiver knows.",
    "invalid_payload": "The envelope or its payload does not validate against the published schema.",
    "unknown_sender": "The sender is not a party of the bus, or may not send this type.",
    "header_mismatch": "An AMQP header (type, version, dossier_id, sender) says another thing than the body.",
    "out_of_bounds": "A text, number or nesting beyond the bus's limits.",
    "too_large": "The body is larger than the bus accepts.",
    "cc_refused": "The publish carried CC/BCC routing keys: one message, one recipient.",
    "misaddressed": "The routing key is not `<recipient>.<type>` of the body.",
    "wrong_account": "The AMQP user_id (the broker account that published) does not speak for the sender.",
    "unsigned": "This receiver requires signatures and the envelope has none.",
    "bad_signature": "The Ed25519 signature does not verify over the RFC 8785 canonical form of the "
    "received envelope minus `signature`.",
    "wrong_sender_key": "The signing key is not one of the sender's keys in the key directory.",
    "expired_key": "The key was withdrawn, or the envelope's `sent_at` is outside the key's validity.",
    "key_directory_unreadable": "The receiver could not read its key directory.",
    "not_canonical": "A value no canonical JSON carries faithfully (NaN, an integer beyond 2^53-1).",
    "unknown_dossier": "The receiver does not hold the dossier and the message does not open one.",
    "unexpected_step": "The dossier is not at the step this message answers.",
    "not_competent": "The sender is not the party the law makes competent for this dossier.",
    "dossier_already_filed": "A filing for a dossier already held, with another content.",
    "identity_mismatch": "The message names another worker or employer than the dossier held.",
    "dated_in_future": "`sent_at` is later than the receiver's bus clock allows.",
    "stale": "`sent_at` is older than the receiver's bus clock allows.",
    "message_id_reused": "A `message_id` already received with another content.",
    "dossier_erased": "The dossier's personal data was erased (retention period or erasure decision): "
    "the receiver takes no message for it; filed without its body.",
    "receipt_mismatch": "A signed receipt that does not acknowledge a message the receiver sent to its "
    "signer, as it sent it (docs/proof.md).",
    "not_for_this_agency": "The receiving agency has no handler for this type.",
    "handler_error": "The receiver's handling failed on every attempt (immediate, then the wait "
    "queues): a fault on its side, replayable by an operator.",
    "relay_refused": "The late relay could not republish a late transmission.",
    "not_relayable": "Dead-lettered after expiring, but not a transmission between two agencies "
    "under its own routing key.",
    "dead_lettered": "Dead-lettered by the broker with no reason given.",
    "rejected": "Broker dead-letter reason: the receiver rejected the delivery without requeue (a nack).",
    "expired": "Broker dead-letter reason: the message's TTL passed.",
    "delivery_limit": "Broker dead-letter reason (quorum queues): redelivered past the delivery limit.",
    "maxlen": "Broker dead-letter reason: the queue's length limit (a policy) was reached.",
}

# Reasons that are not a PermanentError subclass's: the gates' refusals, the failures of
# handling and relaying, the broker's dead-letter reasons.
OTHER_REASONS = (
    "unknown_dossier",
    "unexpected_step",
    "not_competent",
    "dossier_already_filed",
    "identity_mismatch",
    "dated_in_future",
    "stale",
    "message_id_reused",
    "dossier_erased",
    "receipt_mismatch",
    "not_for_this_agency",
    "handler_error",
    "relay_refused",
    "not_relayable",
    "dead_lettered",
    "rejected",
    "expired",
    "delivery_limit",
    "maxlen",
)


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def permanent_reasons() -> dict[str, type[PermanentError]]:
    """reason -> the exception class that raises it, from the PermanentError subclasses loaded."""
    reasons: dict[str, type[PermanentError]] = {"permanent": PermanentError}
    for sub in _subclasses(PermanentError):
        reasons.setdefault(sub.reason, sub)
    return reasons


def error_reasons() -> dict[str, str]:
    """Every reason, sorted, with its description (the class's docstring when none is written)."""
    names = set(permanent_reasons()) | set(OTHER_REASONS)
    classes = permanent_reasons()
    out = {}
    for name in sorted(names):
        doc = (classes[name].__doc__ or "").strip() if name in classes else ""
        out[name] = DESCRIPTIONS.get(name) or (doc.splitlines()[0] if doc else name)
    return out
