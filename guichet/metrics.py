"""What one agency's service counts, in a Prometheus registry of its own.

A registry per service, never the global one: the embedded simulation runs four agencies in one
process, and each test its own services. Labels are bounded sets (agency, message type, outcome,
tier, reason, step, kind): never a dossier or message id, which would make a series per dossier.

Counters and histograms are kept in memory by the runtime's hooks (guichet/runner.py). What the
register already knows (the outbox not yet published, the open tasks) is read at scrape time, by a
collector that opens the register read-only, so that the gauge is never out of step with it.

The runtime knows no domain: an agency's definition may carry an `observe` hook that reads each
message it sends and names the deadline alert it is, if any (`DeadlineSignal`); the counters of
alerts and breaches follow from that.

Every labelled counter and gauge reads 0 from the start for each label set the agency knows
(`KnownLabels`): a series that appears only at its first increment has no earlier sample, so
increase() over it is empty and the first breach after a restart would never raise its alert.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from guichet.register import utc_text
from guichet.register_reader import RegisterReader

if TYPE_CHECKING:
    from guichet.agency import Outcome
    from guichet.agency_definition import AgencyDefinition
    from guichet.clock import Clock
    from guichet.envelope import Envelope
    from guichet.topology import Parties

log = structlog.get_logger("guichet.metrics")

# A handler runs in milliseconds; a delivery waits from milliseconds (a busy queue) to hours (a
# consumer down); the buckets cover both.
HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600)
# Outcomes of a delivery as the runner reports them, in the words of the metric.
OUTCOMES = {
    "processed": "handled",
    "duplicate": "duplicate",
    "retrying": "retried",
    "rejected": "error_queue",
    "failed": "error_queue",
}
# The header RabbitMQ's message-timestamp plugin writes too: the publish instant in milliseconds,
# finer than the AMQP `timestamp` property's whole seconds. Written as a double (field-table tag
# 'd'): py-amqp writes a 64-bit integer with tag 'L', which amqplib and the RabbitMQ Java client
# refuse to decode; every AMQP 0-9-1 client reads a double, exact for milliseconds until year 287396.
TIMESTAMP_MS = "timestamp_in_ms"
# Why the runtime files a message in the error queue (the `reason` of its exceptions and refusals);
# an agency's state machine adds its own (AgencyDefinition.refusal_reasons).
RUNTIME_REASONS = (
    *("permanent", "undecodable", "wrong_content_type", "unknown_type", "unsupported_version"),
    *("invalid_payload", "unknown_sender", "header_mismatch", "out_of_bounds", "too_large", "cc_refused"),
    *("misaddressed", "wrong_account", "not_for_this_agency", "handler_error", "unsigned", "bad_signature"),
    *("wrong_sender_key", "expired_key", "key_directory_unreadable", "not_canonical", "relay_refused"),
    *("not_relayable", "unfiled", "unknown", "unknown_dossier", "dated_in_future", "stale", "message_id_reused"),
    "dossier_erased",
    "receipt_mismatch",
    # what RabbitMQ says of a message dead-lettered to the late queue otherwise than by expiry
    *("dead_lettered", "rejected", "maxlen", "delivery_limit"),
)
RETRY_TIERS = ("immediate", "delayed", "error")


@dataclass(frozen=True)
class DeadlineSignal:
    """A message an agency sent that is a deadline alert: whose step, which step, what kind of alert,
    and whether it says the deadline passed."""

    agency: str
    step: str
    kind: str
    breach: bool = False


# Reads a message about to be sent; returns the deadline alert it is, or None.
Observe = Callable[["Envelope"], "DeadlineSignal | None"]


@dataclass(frozen=True)
class KnownLabels:
    """The label sets an agency knows at start, whose series read 0 before their first event: the
    types it handles and sends, why it may file a message in the error queue, the deadline alerts it
    may send, and, for the relay, the agencies a late transmission may be addressed to."""

    received: tuple[str, ...] = ()
    sent: tuple[str, ...] = ()
    reasons: tuple[str, ...] = RUNTIME_REASONS
    signals: tuple[DeadlineSignal, ...] = ()
    late_recipients: tuple[str, ...] = ()

    @classmethod
    def of(cls, definition: AgencyDefinition, parties: Parties | None = None) -> KnownLabels:
        sent = [t for t, c in (definition.messages or {}).items() if c.SENDER == definition.name]
        relay = parties is not None and parties.relay == definition.name
        return cls(
            received=tuple(definition.types),
            sent=tuple(sent),
            reasons=tuple(dict.fromkeys((*RUNTIME_REASONS, *definition.refusal_reasons))),
            signals=definition.signals,
            late_recipients=tuple(parties.agencies) if relay and parties is not None else (),
        )


class Metrics:
    def __init__(self, agency: str, registry: CollectorRegistry | None = None, known: KnownLabels | None = None):
        self.agency = agency
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.consumed = Counter(
            "guichet_messages_consumed",
            "Deliveries handled, by what became of them",
            ["agency", "type", "outcome"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "guichet_handler_seconds",
            "Time in the handler and its transaction",
            ["agency", "type"],
            buckets=HANDLER_BUCKETS,
            registry=r,
        )
        self.latency = Histogram(
            "guichet_delivery_latency_seconds",
            "Real seconds from publish (AMQP timestamp) to handling; not the scaled clock",
            ["agency", "type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.published_total = Counter(
            "guichet_messages_published", "Messages published from the outbox", ["agency", "type"], registry=r
        )
        self.retries = Counter(
            "guichet_retries", "Retries by tier: immediate, delayed, error (gave up)", ["agency", "tier"], registry=r
        )
        self.error_queue = Counter(
            "guichet_error_queue", "Messages moved to the error queue, by reason", ["agency", "reason"], registry=r
        )
        self.alerts = Counter(
            "guichet_deadline_alerts",
            "Deadline alerts sent to the référent, by step and kind",
            ["agency", "step", "kind"],
            registry=r,
        )
        self.breaches = Counter(
            "guichet_deadline_breaches", "Legal deadlines passed with the step pending", ["agency", "step"], registry=r
        )
        self.late = Counter(
            "guichet_late_transmissions",
            "Transmissions that waited in an agency's queue past their deadline (label: that agency)",
            ["agency"],
            registry=r,
        )
        self.ready_gauge = Gauge(
            "guichet_ready", "1 when connected, topology declared and consuming", ["agency"], registry=r
        )
        self.ready_gauge.labels(agency).set(0)
        self._start_at_zero(known or KnownLabels())

    def _start_at_zero(self, known: KnownLabels) -> None:
        """Series that exist from the start read 0 rather than absent, so that increase() and the
        alerts see their first event, also the first one after a restart."""
        a = self.agency
        for tier in RETRY_TIERS:
            self.retries.labels(a, tier)
        for reason in known.reasons:
            self.error_queue.labels(a, reason)
        for type_ in known.received:
            for outcome in dict.fromkeys(OUTCOMES.values()):
                self.consumed.labels(a, type_, outcome)
        for type_ in known.sent:
            self.published_total.labels(a, type_)
        for signal in known.signals:
            self.alerts.labels(signal.agency, signal.step, signal.kind)
            if signal.breach:
                self.breaches.labels(signal.agency, signal.step)
        for recipient in known.late_recipients:
            self.late.labels(recipient)

    def delivered(self, outcome: Outcome, handler_seconds: float | None, published_at: float | None) -> None:
        """One delivery's outcome, its handler's time and how long it travelled."""
        type_ = outcome.envelope.type if outcome.envelope is not None else "unknown"
        self.consumed.labels(self.agency, type_, OUTCOMES.get(outcome.status, outcome.status)).inc()
        if outcome.envelope is not None and handler_seconds is not None and outcome.status in ("processed", "failed"):
            self.handler_seconds.labels(self.agency, type_).observe(handler_seconds)
        if published_at is not None:
            self.latency.labels(self.agency, type_).observe(max(0.0, time.time() - published_at))
        if outcome.status in ("rejected", "failed"):
            self.error_queue.labels(self.agency, outcome.reason or "unknown").inc()
            if outcome.status == "failed":
                self.retries.labels(self.agency, "error").inc()

    def retry(self, tier: str) -> None:
        self.retries.labels(self.agency, tier).inc()

    def dead_lettered(self, reason: str) -> None:
        self.error_queue.labels(self.agency, reason).inc()

    def published(self, envelope: Envelope, observe: Observe | None) -> None:
        self.published_total.labels(self.agency, envelope.type).inc()
        signal = observe(envelope) if observe is not None else None
        if signal is not None:
            self.alerts.labels(signal.agency, signal.step, signal.kind).inc()
            if signal.breach:
                self.breaches.labels(signal.agency, signal.step).inc()

    def late_transmission(self, recipient: str) -> None:
        self.late.labels(recipient).inc()

    def set_ready(self, ready: bool) -> None:
        self.ready_gauge.labels(self.agency).set(1 if ready else 0)

    def watch_register(self, clock: Clock, data_dir: str | Path | None, database_url: str | None) -> None:
        """Add the gauges read from the register at each scrape."""
        self.registry.register(RegisterGauges(self.agency, clock, data_dir, database_url))


def published_at(message: Any) -> float | None:
    """When a delivery was published, in real epoch seconds: the milliseconds header, else the AMQP
    `timestamp` property (whole seconds); None when the publisher set neither."""
    headers = message.headers or {}
    if isinstance(headers.get(TIMESTAMP_MS), (int, float)) and not isinstance(headers.get(TIMESTAMP_MS), bool):
        return cast(float, headers[TIMESTAMP_MS] / 1000)
    stamp = (message.properties or {}).get("timestamp")
    if isinstance(stamp, datetime):
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return float(stamp)
    return None


class RegisterGauges(Collector):
    """Outbox messages due and not yet published, and open tasks by step, read from the register
    (read-only, a connection per scrape: the service's own connection belongs to its loop); and
    whether that read succeeded. A register that does not answer (PostgreSQL down) reads
    `guichet_register_up 0` instead of failing the whole scrape, so that the alert names the
    register and the service's other series are still scraped."""

    def __init__(self, agency: str, clock: Clock, data_dir: str | Path | None, database_url: str | None):
        self.agency, self.clock = agency, clock
        self.data_dir, self.database_url = data_dir, database_url

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pending = GaugeMetricFamily(
            "guichet_outbox_pending", "Outbox messages due and not yet published", labels=["agency"]
        )
        tasks = GaugeMetricFamily(
            "guichet_deadline_tasks_open", "Open tasks awaiting an act, by step", labels=["agency", "step"]
        )
        up = GaugeMetricFamily(
            "guichet_register_up", "1 when the register answered this scrape's read", labels=["agency"]
        )
        try:
            with RegisterReader(self.agency, self.data_dir, self.database_url) as reader:
                pending.add_metric([self.agency], reader.pending_outbox(utc_text(self.clock.now())))
                for step, count in reader.open_tasks_by_step().items():
                    tasks.add_metric([self.agency, step], count)
        except Exception as exc:  # any driver's error: the register is what does not answer
            log.warning("register unreadable at scrape", agency=self.agency, error=str(exc))
            up.add_metric([self.agency], 0)
            yield up
            return
        up.add_metric([self.agency], 1)
        yield pending
        yield tasks
        yield up

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Named without reading the register: registering the collector must not touch the database.
        yield GaugeMetricFamily("guichet_outbox_pending", "", labels=["agency"])
        yield GaugeMetricFamily("guichet_deadline_tasks_open", "", labels=["agency", "step"])
        yield GaugeMetricFamily("guichet_register_up", "", labels=["agency"])
