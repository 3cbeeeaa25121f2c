"""`guichet run AGENCY`: one agency as a long-running consumer, stopping cleanly on SIGTERM.

Deliveries are collected by the consuming connection's callback and handled in batches: after
each drain (which returns as soon as one delivery came, then takes what else already arrived,
without waiting for a full batch), the batch is handled in one register transaction and acked
with one `multiple` ack once it committed. The outbox is then published on the publishing
connection, every due row sent back to back with one wait for the broker's confirms. A lost
broker connection is re-established with backoff, the topology declared again and consumption
resumed; what was not acked is redelivered and the register's processed ids absorb it. On a
cluster the next connection starts with the node after the one just lost, and once a connection is
up again the backoff starts over: a service that lost three nodes in a day does not wait half a
minute on the fourth drop.

A queue that cannot be declared now (a classic queue whose node is down) does not stop the service
from consuming its own queue; only its own queue being unavailable does. The late queue, which the
DT-OFII relays, is tried again every few seconds until it is back.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from guichet.agency import Agency, AgencyDefinition
from guichet.anchor_copies import AnchorCopies
from guichet.audit_copy import AuditShipper
from guichet.bus import Brokers, Bus
from guichet.clock import Clock
from guichet.declaration import TopologyMismatch
from guichet.journal_anchor import EVERY_RECORDS, Anchorer
from guichet.metrics import KnownLabels, Metrics
from guichet.private_files import private_folder
from guichet.receipt import Freshness
from guichet.register import Register
from guichet.runner import Runner
from guichet.settings import SigningSettings, TLSSettings
from guichet.status_server import ServiceStatus
from guichet.topology import Parties, Topology

if TYPE_CHECKING:
    from kombu.messaging import Consumer

log = structlog.get_logger("guichet.serve")

DRAIN_SECONDS = 0.2
# Deliveries in flight per consumer, and so the largest batch handled in one register transaction.
# A burst is taken in batches this large; a lone message still goes at once (MORE_SECONDS).
DEFAULT_PREFETCH = 100
BACKOFF_START_SECONDS = 0.5
# After a first delivery, what else the broker already sent is taken with waits this short: a
# small batch is handled at once rather than after a full one.
MORE_SECONDS = 0.002
BACKOFF_MAX_SECONDS = 30
LATE_QUEUE_RETRY_SECONDS = 5


class QueueUnavailable(ConnectionError):
    """The service's own queue cannot be declared now (its node is down): reconnect, elsewhere."""


@dataclass
class ServiceConfig:
    definition: AgencyDefinition
    parties: Parties
    broker_url: str
    clock: Clock
    data_dir: Path = Path("data")
    database_url: str | None = None
    namespace: str = "guichet"
    queue_type: str = "classic"
    # Simulated people playing the acts of the agency's back-office and of the outside parties: off
    # unless asked for (`guichet run --simulated-actors`), so that no decision is taken by a simulation
    # on a real bus.
    simulate_actors: bool = False
    prefetch: int = DEFAULT_PREFETCH
    # /metrics, /livez and /readyz on this port (guichet/status_server.py); None: no listener. On this
    # machine only unless told otherwise: the metrics describe the agency's traffic.
    http_port: int | None = None
    http_host: str = "127.0.0.1"
    # TLS for amqps:// and the signing keys, as the command's flags give them (their defaults are the
    # GUICHET_TLS_* and GUICHET_KEY_DIRECTORY / GUICHET_KEYS_DIR variables).
    tls: TLSSettings = field(default_factory=TLSSettings)
    signing: SigningSettings = field(default_factory=SigningSettings)
    # How far a sender's date may stray from this agency's clock (guichet/receipt.py).
    freshness: Freshness = field(default_factory=Freshness)
    # Ship audit copies of the journal to the supervision service (guichet/audit_copy.py).
    audit: bool = True
    # Sign the journal's head at least every this many records (guichet/journal_anchor.py), with
    # the agency's signing key: without one (no key directory), the journal is not anchored.
    anchor_every: int = EVERY_RECORDS

    @property
    def agency(self) -> str:
        return self.definition.name


class Service:
    def __init__(self, config: ServiceConfig):
        self.config = config
        self.stopping = False
        register = Register.for_agency(config.agency, config.data_dir, config.database_url)
        self.agency = Agency(
            config.definition,
            register,
            config.clock,
            config.simulate_actors,
            trust=config.signing.trust(),
            freshness=config.freshness,
        )
        self.heartbeat_file = Path(config.data_dir) / f"{config.agency}.alive"
        self.metrics = Metrics(config.agency, known=KnownLabels.of(config.definition, config.parties))
        self.metrics.watch_register(config.clock, config.data_dir, config.database_url)
        self.status = ServiceStatus(self.metrics, config.http_port, host=config.http_host)
        self._last_beat = 0.0
        self.brokers = Brokers(config.broker_url)
        self.audit = (
            AuditShipper(config.agency, register, config.clock, config.definition.supervision) if config.audit else None
        )
        trust = self.agency.trust
        self.anchors = (
            Anchorer(config.agency, register, trust, every_records=config.anchor_every) if trust is not None else None
        )
        auditor = config.parties.auditor
        self.anchor_copies = (
            AnchorCopies(config.agency, auditor, register) if self.anchors is not None and auditor else None
        )
        self._consuming = False  # set once a connection consumes: the backoff then starts over
        self._lost_at: float | None = None

    def stop(self, *_: object) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        trust = getattr(self.agency, "trust", None)
        if trust is not None:
            # SIGHUP: read the key directory at the next message, without waiting for its reload delay.
            signal.signal(signal.SIGHUP, trust.directory.reload_soon)
        # A heartbeat left by a previous run must not vouch for this one.
        self.heartbeat_file.unlink(missing_ok=True)
        self.status.start()
        backoff = BACKOFF_START_SECONDS
        while not self.stopping:
            self._consuming = False
            try:
                self._consume()
                backoff = BACKOFF_START_SECONDS
            except TopologyMismatch:  # not cured by reconnecting: stop and say what to repair
                self.agency.register.close()
                self.status.stop()
                raise
            except Exception as exc:  # broker gone or connection dropped: reconnect, never exit
                if self.stopping:
                    break
                if self._consuming:  # that connection worked: this is a new outage, not the same one
                    backoff = BACKOFF_START_SECONDS
                    self._lost_at = time.monotonic()
                log.warning(
                    "connection lost, reconnecting",
                    agency=self.config.agency,
                    error=f"{type(exc).__name__}: {exc}",
                    retry_in=backoff,
                )
                self.status.not_ready(f"broker unreachable ({type(exc).__name__}: {exc}); reconnecting")
                self._wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
        self.agency.register.close()
        self.status.stop()
        log.info("stopped", agency=self.config.agency)

    def _consume(self) -> None:
        topology = Topology(self.config.parties, namespace=self.config.namespace, queue_type=self.config.queue_type)
        bus = Bus(self.config.broker_url, topology, brokers=self.brokers, tls=self.config.tls)
        own = topology.queue_name(self.config.agency)
        try:
            unavailable: dict[str, str] | None
            unavailable = bus.declare()
            if own in unavailable:
                raise QueueUnavailable(f"{own}: {unavailable[own]}")
            runner = Runner(self.agency, bus, expire_late=True, metrics=self.metrics)
            arrived: list[Any] = []
            consumer = bus.consumer([own], arrived.append, self.config.prefetch)
            consumer.consume()
            self._consuming = True
            node = _without_password(bus.node)
            if self._lost_at is None:
                log.info("consuming", agency=self.config.agency, queue=own, node=node)
            else:  # as loud as the loss it ends, so that whoever reads warnings sees the outage end
                log.warning(
                    "consuming again",
                    agency=self.config.agency,
                    queue=own,
                    node=node,
                    outage_seconds=round(time.monotonic() - self._lost_at, 2),
                )
                self._lost_at = None
            self.status.ready()
            late, late_tried = None, 0.0
            while not self.stopping:
                if (
                    late is None
                    and self.config.agency == self.config.parties.relay
                    and time.monotonic() - late_tried >= LATE_QUEUE_RETRY_SECONDS
                ):
                    late, late_tried = self._consume_late(bus, runner, topology, unavailable), time.monotonic()
                    unavailable = None
                runner.flush_outbox()
                if self.anchors is not None:  # before shipping: the copy then carries the anchor
                    self.anchors.anchor_if_due(self.config.clock.now())
                if self.audit is not None and self.audit.due():
                    self.audit.ship(bus)
                if self.anchor_copies is not None and self.anchor_copies.due():
                    self.anchor_copies.ship(bus)
                if bus.drain(self._drain_timeout()):
                    while len(arrived) < self.config.prefetch and bus.drain(MORE_SECONDS):
                        pass
                if arrived:
                    batch, arrived[:] = list(arrived), []
                    runner.handle_batch(batch)
                self._beat()
            if self.anchors is not None:  # the last records are signed before the service stops
                self.anchors.anchor_if_due(self.config.clock.now(), force=True)
            if self.audit is not None:  # what the journal recorded last goes to supervision now, not at the next start
                self.audit.ship(bus)
            if self.anchor_copies is not None:
                self.anchor_copies.ship(bus)
            consumer.cancel()
            if late is not None:
                late.cancel()
        finally:
            self.status.not_ready("stopping" if self.stopping else "reconnecting to the broker")
            bus.close()

    def _consume_late(
        self, bus: Bus, runner: Runner, topology: Topology, unavailable: dict[str, str] | None
    ) -> Consumer | None:
        """Only the OFII (the référent, to whom the alert goes) relays late transmissions: its account
        alone may read the late queue and republish other agencies' messages (guichet_operations.broker_admin).
        None while the late queue is not available; the caller tries again later."""
        name = topology.queue_name("retard")
        if unavailable is None:  # a later try: declare again what was missing
            unavailable = bus.declare()
        if name in unavailable:
            log.warning("late queue not available, relaying it later", queue=name, error=unavailable[name])
            return None
        late = bus.consumer([name], runner.on_late, self.config.prefetch)
        late.consume()
        return late

    def _drain_timeout(self) -> float:
        """Wake up in time for the next due message of the outbox (a deferred act or reminder)."""
        due = self.agency.register.next_due()
        if due is None:
            return DRAIN_SECONDS
        return min(DRAIN_SECONDS, max(0.005, self.config.clock.real_seconds_until(due)))

    def _beat(self) -> None:
        self.status.tick()
        now = time.time()
        if now - self._last_beat >= 1.0:
            private_folder(self.heartbeat_file.parent)  # the data folder: created 0700
            self.heartbeat_file.write_text(str(now))
            self._last_beat = now

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            self._beat()  # waiting for the broker is not being stuck: the loop stays alive
            time.sleep(0.1)


def _without_password(url: str | None) -> str | None:
    if not url or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def healthy(agency: str, data_dir: Path, max_age: float = 30.0) -> bool:
    """The service is alive when its loop wrote its heartbeat within `max_age` seconds."""
    path = Path(data_dir) / f"{agency}.alive"
    try:
        return time.time() - float(path.read_text()) < max_age
    except (OSError, ValueError):
        return False
