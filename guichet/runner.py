"""Moves messages between the bus and one agency: deliveries in, outbox out, failures in tiers.

1. A transient fault (a locked SQLite file, a dropped database link) is retried at once, a few
   times within a second (tenacity).
2. A handler that still fails is retried later: on RabbitMQ through the wait queues (the message
   is acked and republished, never held unacked for minutes), on the embedded transport through
   the register, which has no broker TTL to rely on. Attempts are counted in a header.
3. After the last delayed retry, or at once for a message that can never succeed, the message
   goes to the error queue whole, with the failure's context in headers.

No path acks a delivery before what it filed (a retry, an error-queue filing, a relayed late
transmission) was confirmed by the broker (see guichet/failures.py for the filing id that absorbs a
filing done twice).
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import structlog
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from guichet import tracing
from guichet.admission import AccountPlan, Admission
from guichet.agency import Agency, Outcome
from guichet.late_relay import LateRelay
from guichet.bus import Bus
from guichet.envelope import Envelope, PermanentError
from guichet.failures import (  # noqa: F401  (the headers' names are imported from here too)
    ATTEMPTS, FILING_ID, FIRST_FAILURE, LAST_ERROR, REPLAYS, _envelope_field, _message_id, _without, failure_summary,
    filing_id)
from guichet.metrics import Metrics, published_at
from guichet.privacy import PersonalBody, personal_data

log = structlog.get_logger("guichet.runner")

IMMEDIATE_ATTEMPTS = 3
# Faults that go away by themselves within seconds: a locked SQLite file, a dropped database link.
TRANSIENT = (sqlite3.OperationalError, ConnectionError, TimeoutError)
# Who holds an outbox row while publishing it: this process. A claim older than this is another
# process's that died before marking its rows sent; they are taken over.
CLAIMANT = f"{socket.gethostname()}:{os.getpid()}"
CLAIM_STALE_SECONDS = 30


class Runner:
    def __init__(self, agency: Agency, bus: Bus, expire_late: bool = False, metrics: Metrics | None = None):
        self.agency = agency
        self.bus = bus
        parties = bus.topology.parties
        self.admission = Admission.for_bus(agency.name, bus.url, AccountPlan(roles=parties.accounts), parties.relay,
                                           tuple(parties.agencies), signed=agency.trust is not None)
        if not bus.is_memory and self.admission.account_prefix is None:
            log.warning("not connected with an agency account: the account that published a delivery is not "
                        "checked against its sender (run it with the account `guichet broker setup` made)",
                        agency=agency.name)
        # A registry of its own when none is given: four runners in one process never collide.
        self.metrics = metrics or Metrics(agency.name)
        self._handler_seconds: float | None = None
        self.queue_name = bus.topology.queue_name(agency.name)
        # Late-transmission expiry needs a broker TTL and a clock that runs by itself.
        self.expire_late = expire_late and not bus.is_memory
        self.processed = self.failed = self.retried = 0
        # What went to the error queue, by dossier: a run can say which dossier it could not carry.
        self.failures: list[dict] = []
        self.late_relay = LateRelay(self)

    def handle(self, body, headers, content_type, routing_key: str | None = None,
               sent_at: float | None = None, message_id: str | None = None, user_id: str | None = None) -> Outcome:
        """Process one delivery; never raises for a bad message. `sent_at`: when it was published
        (real epoch seconds), for the delivery latency; `message_id`: the delivery's AMQP property,
        the one id an undecodable body still has; `user_id`: the account that published it, as the
        broker validated it. An outcome `unfiled` is a delivery whose filing in the error queue
        failed: the caller rejects it without requeue (dead-lettered, never redelivered here)."""
        self._handler_seconds = None
        with personal_data(PersonalBody(body)), \
                tracing.processing(headers, self.queue_name, routing_key, None) as span:
            outcome = self._handle(body, dict(headers or {}), content_type, routing_key, message_id, user_id)
            tracing.record_outcome(span, outcome, lambda: _message_id(body, headers, message_id),
                                   (headers or {}).get("dossier_id"))
        self.metrics.delivered(outcome, self._handler_seconds, sent_at)
        return outcome

    def handle_batch(self, messages: list) -> None:
        """Handle deliveries of one queue in one register transaction, then ack them with one
        `multiple` ack once it committed. What did not go through in the batch (a handler fault, a
        rejection, a processed id another process of the agency took first) is handled again alone
        after the commit, through `handle`: same retries, same error queue, same outcome."""
        done: list[tuple[Outcome, float, float | None]] = []
        alone: list = []
        try:
            with self.agency.batch() as batch:
                for message in messages:
                    started = time.perf_counter()
                    body, headers = message.body, message.headers or {}
                    routing_key = message.delivery_info.get("routing_key")
                    if self.refusal(body, headers, routing_key, message.properties.get("user_id")) is not None:
                        alone.append(message)  # refused again there, and filed
                        continue
                    with personal_data(PersonalBody(body)), \
                            tracing.processing(headers, self.queue_name, routing_key, None) as span:
                        outcome = batch.process(body, headers, message.content_type)
                        if outcome is not None and outcome.status in ("processed", "duplicate"):
                            tracing.record_outcome(span, outcome, lambda: _message_id(body, headers, None),
                                                   headers.get("dossier_id"))
                    if outcome is None or outcome.status not in ("processed", "duplicate"):
                        alone.append(message)
                    else:
                        done.append((outcome, time.perf_counter() - started, published_at(message)))
        except Exception as exc:  # the batch's own transaction failed (e.g. a lock timeout): one by one
            log.warning("batch not committed, handling its deliveries one by one", agency=self.agency.name,
                        size=len(messages), error=f"{type(exc).__name__}: {exc}")
            done, alone = [], list(messages)
        for outcome, seconds, sent_at in done:
            self.processed += outcome.status == "processed"
            self.metrics.delivered(outcome, seconds, sent_at)
        unfiled = [m for m in alone if self.handle_delivery(m).status == "unfiled"]
        for message in unfiled:
            message.reject(requeue=False)
        kept = [m for m in messages if m not in unfiled]
        if self.bus.is_memory:  # the embedded transport acks one tag at a time, `multiple` or not
            for message in kept:
                message.ack()
        elif kept:
            kept[-1].ack(multiple=True)

    def handle_delivery(self, message) -> Outcome:
        """`handle` with what the broker says of a delivery: its key, publish time, id and account."""
        return self.handle(message.body, message.headers, message.content_type,
                           message.delivery_info.get("routing_key"), published_at(message),
                           message.properties.get("message_id"), message.properties.get("user_id"))

    def settle(self, message, outcome: Outcome) -> None:
        """Ack a handled delivery; reject without requeue one whose filing the broker refused, so that
        it is dead-lettered (to the late queue, whose relay files it) instead of coming back here."""
        if outcome.status == "unfiled":
            message.reject(requeue=False)
        else:
            message.ack()

    def refusal(self, body, headers, routing_key: str | None, user_id: str | None) -> Outcome | None:
        """Why a delivery is refused before its body is read (guichet/admission.py), or None."""
        try:
            self.admission.check(body, headers, routing_key, user_id)
        except PermanentError as exc:
            return Outcome("rejected", reason=exc.reason, error=str(exc))
        return None

    def _handle(self, body, headers: dict, content_type, routing_key: str | None,
                message_id: str | None = None, user_id: str | None = None) -> Outcome:
        started = time.perf_counter()
        outcome = self.refusal(body, headers, routing_key, user_id) or self._process(body, headers, content_type)
        self._handler_seconds = time.perf_counter() - started
        now = self.agency.clock.now()
        if outcome.status == "failed":
            retries = int(headers.get(ATTEMPTS, 0))
            if retries < len(self.bus.topology.retry_delays):
                self._retry_later(body, headers, content_type, routing_key, retries, outcome, now, message_id)
                return Outcome("retrying", outcome.envelope, outcome.reason, outcome.error)
        if outcome.status in ("rejected", "failed"):
            self.failed += 1
            self.failures.append({"dossier_id": _envelope_field(body, outcome, "dossier_id"),
                                  "agency": self.agency.name, "type": _envelope_field(body, outcome, "type"),
                                  "reason": outcome.reason, "error": outcome.error})
            context = {"reason": outcome.reason, "message": outcome.error,
                       "queue": self.queue_name, "routing-key": routing_key,
                       "first-failure": headers.get(FIRST_FAILURE) or now, "last-failure": now,
                       "attempts": int(headers.get(ATTEMPTS, 0)) + 1,
                       "exception": outcome.details.get("exception", outcome.reason),
                       "traceback": outcome.details.get("traceback", ""),
                       "message_id": _message_id(body, headers, message_id)}
            kept = _without(headers, ATTEMPTS, FIRST_FAILURE, LAST_ERROR)
            kept[FILING_ID] = filing_id(body, headers, context["message_id"], self.queue_name)
            if not self._file(body, kept, content_type, context, routing_key or self._own_key()):
                return Outcome("unfiled", outcome.envelope, outcome.reason, outcome.error)
            log.warning("message sent to the error queue", agency=self.agency.name,
                        reason=outcome.reason, error=outcome.error)
        elif outcome.status == "processed":
            self.processed += 1
        return outcome

    def _process(self, body, headers: dict, content_type) -> Outcome:
        try:
            for attempt in Retrying(stop=stop_after_attempt(IMMEDIATE_ATTEMPTS), reraise=True,
                                    wait=wait_exponential(multiplier=0.05, max=1),
                                    retry=retry_if_exception_type(TRANSIENT),
                                    before_sleep=lambda _: self.metrics.retry("immediate")):
                with attempt:
                    return self.agency.process(body, headers, content_type)
        except Exception as exc:  # a handler fault: the message must neither be lost nor block the queue
            return Outcome("failed", reason="handler_error", error=f"{type(exc).__name__}: {exc}",
                           details={"exception": type(exc).__name__, "traceback": failure_summary(exc)})
        raise AssertionError("unreachable: tenacity returns or re-raises")

    def _file(self, body, headers: dict, content_type, context: dict, routing_key: str) -> bool:
        """File in the error queue under a key this agency may write; False when the broker did not
        take it (the caller then rejects the delivery without requeue: dead-lettered, not looped)."""
        try:
            self.bus.to_error_queue(body, headers, content_type, context, self.admission.filing_key(routing_key))
            return True
        except Exception as exc:
            if self.bus.is_memory:
                raise  # no broker to refuse it: a fault of this process, not of the message
            log.error("could not file a refused message in the error queue: rejected to the late queue instead",
                      agency=self.agency.name, reason=context.get("reason"), error=f"{type(exc).__name__}: {exc}")
            self.metrics.dead_lettered("unfiled")
            return False

    def _retry_later(self, body, headers, content_type, routing_key, retries, outcome: Outcome, now,
                     message_id: str | None = None) -> None:
        delay = self.bus.topology.retry_delays[retries]
        headers = {**headers, ATTEMPTS: retries + 1, FIRST_FAILURE: headers.get(FIRST_FAILURE) or now.isoformat(),
                   LAST_ERROR: outcome.error or ""}
        routing_key = routing_key or self._own_key()
        if self.bus.is_memory:
            # Published later from the register: the failed handling's span goes with it.
            headers = {**headers, **tracing.current_context_headers()}
            self.agency.register.delay(routing_key, body, headers, now + timedelta(seconds=delay))
        else:
            self.bus.publish(body, routing_key, headers, _message_id(body, headers, message_id),
                             exchange=self.bus.topology.wait_exchange(delay),
                             content_type=content_type or "application/json")
        self.retried += 1
        self.metrics.retry("delayed")
        log.warning("handler failed, retrying later", agency=self.agency.name, error=outcome.error,
                    attempt=retries + 1, retry_in_seconds=delay)

    def _own_key(self) -> str:
        """For a message handed over without a routing key: one addressed to this agency, which its
        queue is bound to and its account may write."""
        return f"{self.agency.name}.retry"

    def on_delivery(self, message) -> None:
        self.settle(message, self.handle_delivery(message))

    def on_late(self, message) -> None:
        """A message dead-lettered to the late queue, which this agency relays (guichet/late_relay.py)."""
        self.late_relay.on_late(message)

    def flush_outbox(self, now: datetime | None = None, limit: int = 200) -> int:
        """Publish what is due; a row is marked sent only after the broker confirmed it."""
        now = now or self.agency.clock.now()
        register = self.agency.register
        if not self.bus.is_memory:
            return self._flush_pipelined(now, limit)
        rows = register.due_outbox(now, limit)
        envelopes = []
        for row in rows:
            envelope = register.outbox_envelope(row)
            self.bus.publish(row["body"], row["routing_key"], json.loads(row["headers"]), row["message_id"],
                             expiration=self._expiration(envelope))
            envelopes.append(envelope)
        # Marked together once all were handed over: a crash before the mark sends them again, and
        # their receivers' processed ids absorb the copies.
        self._mark_sent(rows, envelopes)
        delayed = register.due_delayed(now, limit)
        for row in delayed:
            headers = json.loads(row["headers"])
            self.bus.publish(row["body"], row["routing_key"], headers, _message_id(row["body"], headers))
            register.mark_delayed_published(row["id"], self.agency.clock.now())
        return len(rows) + len(delayed)

    def _flush_pipelined(self, now: datetime, limit: int) -> int:
        """On RabbitMQ: claim the due rows (another process of the agency may be flushing the same
        outbox), send them all back to back and wait once for their confirms, then mark them sent
        in one transaction. Should a process die between the confirm and the mark, its claim goes
        stale and the rows are sent again: the receivers' processed ids absorb the second copy."""
        register = self.agency.register
        real_now = datetime.now(timezone.utc)
        rows = register.claim_outbox(now, CLAIMANT, real_now, real_now - timedelta(seconds=CLAIM_STALE_SECONDS), limit)
        if not rows:
            return 0
        envelopes = [register.outbox_envelope(row) for row in rows]
        self.bus.publish_batch([(row["body"], row["routing_key"], json.loads(row["headers"]), row["message_id"],
                                 self._expiration(envelope)) for row, envelope in zip(rows, envelopes)])
        self._mark_sent(rows, envelopes)
        return len(rows)

    def _mark_sent(self, rows: list[dict], envelopes: list[Envelope]) -> None:
        """Outbox rows the broker took: marked sent and journaled in one transaction, then counted."""
        self.agency.register.mark_all_published(list(zip(rows, envelopes)), self.agency.clock.now())
        for envelope in envelopes:
            self.metrics.published(envelope, self.agency.definition.observe)

    def _expiration(self, envelope: Envelope) -> float | None:
        """A transmission waits in its recipient's queue until its legal deadline at most; then it is
        dead-lettered to the late queue (and still delivered)."""
        if not self.expire_late or envelope.deadline is None or envelope.recipient not in self.bus.topology.parties.agencies:
            return None
        seconds = self.agency.clock.real_seconds_until(envelope.deadline)
        return seconds if seconds > 0 else None

    def poll_batch(self, limit: int = 500) -> int:
        """Handle what waits in the queue, up to `limit` messages, in one register transaction
        (`handle_batch`); the number handled."""
        messages = []
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
