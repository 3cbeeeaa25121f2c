"""The late relay: what an agency queue dead-letters to the late queue, handled by the agency the
domain names (the DT-OFII, référent of the deadline alerts).

- A transmission between two agencies that expired in its recipient's queue before its legal
  deadline was met (its consumer was down) is republished under its own routing key, marked late,
  and the relaying agency raises the alert its definition gives (`late_alert`); it is
  delivered all the same once the consumer is back.
- Anything else dead-lettered there (a quorum queue's delivery limit, a delivery its agency
  rejected because the broker refused its filing, a message a sender made expire on purpose) is
  filed in the error queue, never relayed: the relay carries on only what an agency sent.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

import structlog

from guichet.envelope import PermanentError, Sender, decode, wrap
from guichet.failures import delivery_message_id, without

if TYPE_CHECKING:
    from guichet.agency import Agency
    from guichet.dead_letters import DeadLetters
    from guichet.hooks import Hooks
    from guichet.transport import Transport

log = structlog.get_logger("guichet.late_relay")


class LateRelay:
    def __init__(self, agency: Agency, bus: Transport, dead_letters: DeadLetters, hooks: Hooks):
        self.agency, self.bus, self.dead_letters, self.hooks = agency, bus, dead_letters, hooks

    def on_late(self, message: Any) -> None:
        """A message dead-lettered to the late queue: relayed with its alert, or filed."""
        with self.hooks.relaying(
            message.headers, self.bus.topology.queue_name("retard"), message.delivery_info.get("routing_key")
        ):
            self._relay_late(message)

    def _relay_late(self, message: Any) -> None:
        headers = dict(message.headers or {})
        death = (headers.get("x-death") or [{}])[0]
        routing_key = (death.get("routing-keys") or [message.delivery_info.get("routing_key")])[0]
        refused = self._not_relayable(message, death, routing_key)
        if refused is not None:
            # A quorum queue's delivery limit (a message that keeps crashing its consumer), a delivery
            # its agency could not file, or anything but an agency's transmission: filed, not relayed.
            self.dead_letters.file_dead_lettered(message, {**death, "reason": refused}, routing_key)
            message.ack()
            return
        envelope, late = decode(message.body, headers, message.content_type, messages=self.agency.messages)
        clean = without(headers, "x-death", "x-first-death-queue", "x-first-death-reason", "x-first-death-exchange")
        try:
            self.bus.publish(
                message.body,
                routing_key,
                {**clean, "x-guichet-late": True},
                delivery_message_id(message.body, headers, message.properties.get("message_id")),
                content_type=message.content_type or "application/json",
            )
        except Exception as exc:  # refused by the broker: filed rather than tried again for ever
            log.error("late transmission could not be relayed: filed in the error queue", error=str(exc))
            self.dead_letters.file_dead_lettered(message, {**death, "reason": "relay_refused"}, routing_key)
            message.ack()
            return
        self.hooks.late(envelope.recipient)
        late_alert = self.agency.definition.late_alert
        alert = late_alert(envelope, late) if late_alert is not None else None
        if alert is not None:
            # A relay done twice alerts once: the alert's id follows from the late message's.
            out = wrap(
                alert,
                dossier_id=envelope.dossier_id,
                sender=Sender(agency=self.agency.name),
                sent_at=self.agency.clock.now(),
                causation_id=envelope.message_id,
                message_id=uuid.uuid5(envelope.message_id, alert.TYPE),
            )
            if self.agency.trust is not None:
                out = self.agency.trust.sign(out)
            self.bus.publish_envelope(out)
            self.hooks.published(out)
            log.warning(
                "late transmission relayed",
                type=envelope.type,
                dossier_id=envelope.dossier_id,
                recipient=envelope.recipient,
            )
        message.ack()

    def _not_relayable(self, message: Any, death: dict[str, Any], routing_key: str | None) -> str | None:
        """Why a dead-lettered message is not relayed, or None: only a transmission between two
        agencies that expired in its recipient's queue, under its own routing key, is carried on."""
        if death.get("reason") != "expired":
            return cast(str, death.get("reason", "dead_lettered"))
        agencies = self.bus.topology.parties.agencies
        try:
            envelope, _ = decode(message.body, message.headers, message.content_type, messages=self.agency.messages)
        except PermanentError as exc:
            return exc.reason
        if (
            routing_key != envelope.routing_key
            or envelope.sender.agency not in agencies
            or envelope.recipient not in agencies
            or any(str(k).upper() in ("CC", "BCC") for k in message.headers or {})
        ):
            return "not_relayable"
        return None
