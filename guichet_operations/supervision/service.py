"""The supervision service's consumer: the supervision queue (audit copies, refusal notices) and
the error queue, into the store. A delivery is acknowledged once the store committed it; if the
store cannot be written, nothing is acknowledged and the service reconnects, so the queues keep
what was not taken. A message the store refuses (Refused) is logged, counted and acknowledged:
kept, it would come back for ever.

As ServiceControl does with its error queue, the service takes the error queue into its store:
the console lists failures from there (listing changes nothing on the broker) and a replay
publishes the stored message back through the replay exchange.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from guichet.bus import Bus
from guichet.key_directory import KeyDirectory
from guichet.settings import TLSSettings
from guichet.topology import Topology
from guichet_operations.supervision.anchors import Finding
from guichet_operations.supervision.ingest import Ingestion, Refused
from guichet_operations.supervision.queue_watch import QueueWatch
from guichet_operations.supervision.retention import Retention
from guichet_operations.supervision.store import Store
from schemas.base import AGENCIES
from services.parties import PARTIES

log = structlog.get_logger("guichet.supervision")

KINDS = ("audit_copy", "refusal_notice", "failure", "unknown")
PREFETCH = 200
BACKOFF_MAX_SECONDS = 30.0


@dataclass
class SupervisionMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.ingested = Counter(
            "guichet_supervision_ingested", "Messages taken into the store", ["kind"], registry=self.registry
        )
        self.refused = Counter(
            "guichet_supervision_refused", "Messages the store did not take", ["kind"], registry=self.registry
        )
        self.lag = Gauge(
            "guichet_supervision_lag_seconds",
            "Real seconds between an agency shipping its last audit copy and the store taking it",
            ["agency"],
            registry=self.registry,
        )
        self.anchor_findings = Counter(
            "guichet_supervision_journal_findings",
            "Journal anchors that the records the store holds do not reach, or whose signature is not the agency's",
            ["agency"],
            registry=self.registry,
        )
        self.connected = Gauge(
            "guichet_supervision_connected", "1 while consuming from the broker", registry=self.registry
        )
        for kind in KINDS:  # at zero from the start: the first event after a restart is an increase
            self.ingested.labels(kind=kind)
            self.refused.labels(kind=kind)
        for agency in AGENCIES:
            self.lag.labels(agency=agency)
            self.anchor_findings.labels(agency=agency)


class Supervisor:
    def __init__(
        self,
        store: Store,
        broker_url: str,
        namespace: str = "guichet",
        queue_type: str = "classic",
        tls: TLSSettings | None = None,
        metrics: SupervisionMetrics | None = None,
        retention: Retention | None = None,
        on_lag: Callable[[str, float], None] | None = None,
        directory: KeyDirectory | None = None,
    ):
        self.metrics = metrics or SupervisionMetrics()
        self.ingestion = Ingestion(store, directory, self._finding)
        self.topology = Topology(PARTIES, namespace=namespace, queue_type=queue_type)
        self.queue_watch = QueueWatch(store, self.topology)
        self.retention = retention
        self.on_lag = on_lag  # each copy's lag, for a caller that measures it (guichet bench --supervision)
        self.broker_url, self.tls = broker_url, tls or TLSSettings()
        self.stopping = threading.Event()
        self.consuming = threading.Event()
        self.bus: Bus | None = None

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self._consume()
                backoff = 0.5
            except Exception as exc:  # the broker or the store went away: reconnect, never exit
                self.consuming.clear()
                self.metrics.connected.set(0)
                if self.stopping.is_set():
                    break
                log.warning("supervision reconnecting", error=f"{type(exc).__name__}: {exc}", retry_in=backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)

    def _consume(self) -> None:
        bus = Bus(self.broker_url, self.topology, tls=self.tls)
        self.bus = bus
        try:
            bus.declare()
            queues = [self.topology.queue_name("supervision"), self.topology.queue_name("erreurs")]
            consumer = bus.consumer(queues, self.on_message, PREFETCH)
            consumer.consume()
            self.consuming.set()
            self.metrics.connected.set(1)
            log.info("supervision consuming", queues=queues)
            while not self.stopping.is_set():
                bus.drain(0.5)
                if self.queue_watch.due():
                    self.queue_watch.run(bus)
                if self.retention is not None and self.retention.due():
                    self.retention.run()
            consumer.cancel()
        finally:
            self.consuming.clear()
            self.metrics.connected.set(0)
            bus.close()

    def on_message(self, message: Any) -> None:
        info = message.delivery_info or {}
        kind = {
            self.topology.errors_exchange.name: "failure",
            self.topology.refusals_exchange.name: "refusal_notice",
            self.topology.supervision_exchange.name: "audit_copy",
        }.get(info.get("exchange"), "unknown")
        routing_key = str(info.get("routing_key"))
        try:
            if kind == "failure":
                self.ingestion.failure(message)
            elif kind == "refusal_notice":
                self.ingestion.refusal(message.body)
            elif kind == "audit_copy":
                self.ingestion.audit_copy(message.body, routing_key)
                self._lag(message.body, routing_key)
            else:
                raise Refused(f"a message from the exchange {info.get('exchange')!r}, which leads to no store table")
            self.metrics.ingested.labels(kind=kind).inc()
        except Refused as refused:
            self.refuse(kind, str(refused))
        except Exception as exc:
            if unavailable(exc):
                raise  # nothing acknowledged: the queue keeps it until the store is back
            # What a copy holds is another party's: a malformed one is refused, never retried for ever.
            self.refuse(kind, f"{type(exc).__name__}: {exc}")
        message.ack()

    def _finding(self, finding: Finding) -> None:
        self.metrics.anchor_findings.labels(agency=finding.agency).inc()
        log.error("journal finding", agency=finding.agency, seq=finding.seq, kind=finding.kind, detail=finding.detail)

    def refuse(self, kind: str, why: str) -> None:
        self.metrics.refused.labels(kind=kind).inc()
        log.warning("not taken into the store", kind=kind, reason=why[:300])

    def _lag(self, body: bytes | str, agency: str) -> None:
        try:
            shipped = datetime.fromisoformat(json.loads(body)["shipped_at"])
        except (ValueError, KeyError, TypeError):
            return
        lag = max(0.0, (datetime.now(UTC) - shipped).total_seconds())
        self.metrics.lag.labels(agency=agency).set(lag)
        if self.on_lag is not None:
            self.on_lag(agency, lag)


def unavailable(exc: BaseException) -> bool:
    """The store cannot be written now (its server is gone, its file locked): try again later."""
    if isinstance(exc, sqlite3.OperationalError):
        return True
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))


def wait_consuming(supervisor: Supervisor, timeout: float = 30.0) -> bool:
    """True once the supervisor consumes (for a caller that starts it in a thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor.consuming.wait(0.1):
            return True
    return False
