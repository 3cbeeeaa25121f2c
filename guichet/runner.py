"""Moves messages between the bus and one agency, from parts that each do one job:

- delivery (guichet/delivery.py): admit, decode, deduplicate, handle and commit each delivery;
- retry policy (guichet/retry_policy.py): which failure is tried again, how soon, how often;
- dead letters (guichet/dead_letters.py): what goes to the error queue, with its context;
- refusals (guichet/refusals.py): the notice that tells a refused message's sender why;
- late relay (guichet/late_relay.py): what expired in a queue, relayed with its alert;
- outbox publisher (guichet/outbox_publisher.py): what the handlers committed, sent when due.

Metrics and traces hook in at named points (guichet/hooks.py). The runner runs the same code on
every transport (guichet/transport/): it never asks which one it has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from guichet.admission import AccountPlan, Admission
from guichet.agency import Agency, Outcome
from guichet.dead_letters import DeadLetters
from guichet.delivery import Delivery
from guichet.failures import ATTEMPTS, FILING_ID, FIRST_FAILURE, LAST_ERROR, REPLAYS
from guichet.hooks import Hooks
from guichet.late_relay import LateRelay
from guichet.metrics import KnownLabels, Metrics
from guichet.outbox_publisher import OutboxPublisher
from guichet.refusals import Refusals
from guichet.retry_policy import RetryPolicy
from guichet.transport import Transport

# The headers' names, for the tools and tests that read them from here.
__all__ = ["ATTEMPTS", "FILING_ID", "FIRST_FAILURE", "LAST_ERROR", "REPLAYS", "Runner"]

log = structlog.get_logger("guichet.runner")


class Runner:
    def __init__(self, agency: Agency, bus: Transport, expire_late: bool = False, metrics: Metrics | None = None):
        self.agency = agency
        self.bus = bus
        parties = bus.topology.parties
        self.admission = Admission.for_bus(
            agency.name,
            bus.url,
            AccountPlan(roles=parties.accounts),
            parties.relay,
            tuple(parties.agencies),
            signed=agency.trust is not None,
        )
        if bus.account is not None and self.admission.account_prefix is None:
            log.warning(
                "not connected with an agency account: the account that published a delivery is not "
                "checked against its sender (run it with the account `guichet broker setup` made)",
                agency=agency.name,
            )
        # A registry of its own when none is given: four runners in one process never collide.
        self.metrics = metrics or Metrics(agency.name, known=KnownLabels.of(agency.definition, parties))
        self.hooks = Hooks(self.metrics, agency.definition.observe)
        self.queue_name = bus.topology.queue_name(agency.name)
        self.dead_letters = DeadLetters(agency, bus, self.admission, self.hooks, self.queue_name)
        self.refusals = Refusals(agency, bus, self.admission)
        self.delivery = Delivery(
            agency,
            bus,
            self.admission,
            RetryPolicy(bus.topology.retry_delays),
            self.dead_letters,
            self.hooks,
            self.queue_name,
            self.refusals,
        )
        self.late_relay = LateRelay(agency, bus, self.dead_letters, self.hooks)
        self.outbox = OutboxPublisher(agency, bus, self.hooks, expire_late)

    # What became of the deliveries so far, and which dossiers a run could not carry.
    @property
    def processed(self) -> int:
        return self.delivery.processed

    @property
    def failed(self) -> int:
        return self.delivery.failed

    @property
    def retried(self) -> int:
        return self.delivery.retried

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self.dead_letters.failures

    @property
    def expire_late(self) -> bool:
        return self.outbox.expire_late

    def handle(
        self,
        body: bytes | str,
        headers: dict[str, Any] | None,
        content_type: str | None,
        routing_key: str | None = None,
        sent_at: float | None = None,
        message_id: str | None = None,
        user_id: str | None = None,
    ) -> Outcome:
        """Process one delivery; never raises for a bad message. `sent_at`: when it was published
        (real epoch seconds), for the delivery latency; `message_id`: the delivery's AMQP property,
        the one id an undecodable body still has; `user_id`: the account that published it, as the
        broker validated it. An outcome `unfiled` is a delivery whose filing in the error queue
        failed: the caller rejects it without requeue (dead-lettered, never redelivered here)."""
        return self.delivery.handle(body, headers, content_type, routing_key, sent_at, message_id, user_id)

    def handle_batch(self, messages: list[Any]) -> None:
        """Deliveries of one queue in one register transaction, acked together (Delivery.handle_batch)."""
        self.delivery.handle_batch(messages)

    def handle_delivery(self, message: Any) -> Outcome:
        return self.delivery.handle_message(message)

    def settle(self, message: Any, outcome: Outcome) -> None:
        self.delivery.settle(message, outcome)

    def refusal(
        self, body: bytes | str, headers: dict[str, Any], routing_key: str | None, user_id: str | None
    ) -> Outcome | None:
        return self.delivery.refusal(body, headers, routing_key, user_id)

    def on_delivery(self, message: Any) -> None:
        self.settle(message, self.handle_delivery(message))

    def on_late(self, message: Any) -> None:
        """A message dead-lettered to the late queue, which this agency relays (guichet/late_relay.py)."""
        self.late_relay.on_late(message)

    def flush_outbox(self, now: datetime | None = None, limit: int = 200) -> int:
        """Publish what is due; a row is marked sent only after the broker confirmed it."""
        return self.outbox.flush(now, limit)

    def next_due(self) -> datetime | None:
        """The next instant something of this agency moves by itself: an outbox row falls due, or a
        message the bus holds (a delayed retry) comes back. For a caller that moves the clock."""
        due = [d for d in (self.agency.register.next_due(), self.bus.next_due()) if d is not None]
        return min(due) if due else None

    # Polling, for a caller that must know when all is quiet (the simulator, tests).
    def poll_batch(self, limit: int = 500) -> int:
        """Handle what waits in the queue, up to `limit` messages, in one register transaction
        (`handle_batch`); the number handled."""
        messages: list[Any] = []
        while len(messages) < limit and (message := self.bus.get(self.queue_name)) is not None:
            messages.append(message)
        if messages:
            self.handle_batch(messages)
        return len(messages)

    def poll_once(self) -> bool:
        """Handle at most one waiting message; True when one was there."""
        message = self.bus.get(self.queue_name)
        if message is None:
            return False
        self.settle(message, self.handle_delivery(message))
        return True
